"""Satisfaction surveys after resolve on every channel (docs/architecture.md, "Surveys")."""
