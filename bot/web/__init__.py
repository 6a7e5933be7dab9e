"""Plain server-rendered pages for customers who prefer a form to the chat."""
