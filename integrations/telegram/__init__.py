"""Telegram channel: python-telegram-bot against the Bot API (long polling, or webhook into the hub)."""
