"""Luotsi hub: conversations, language, catalogues, the chat API and (later) tickets and queues."""
