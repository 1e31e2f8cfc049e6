"""The web-chat channel: the embeddable widget's WebSocket protocol (docs/api.md)."""
