"""The Telegram channel: python-telegram-bot against the Bot API, webhook (or long polling) in, sendMessage out."""
