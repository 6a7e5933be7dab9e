"""Channel adapters: each turns its wire format into bot.messages and back. They depend on the
hub's core; the core never imports them (except the composition root, bot/app.py)."""
