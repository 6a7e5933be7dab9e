"""The adviser console: server-rendered pages (Jinja2, autoescaped), cookie sessions with CSRF."""
