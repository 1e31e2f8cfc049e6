"""Rasa bot connector, handover policy and trainer workflow (see the bot issue)."""
