"""The settings models of each area; ``hub.config.Settings`` assembles them (and re-exports them)."""
