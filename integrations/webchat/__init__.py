"""The web chat: `POST /api/chat` (the widget's wire format), the chat page and the widget."""
