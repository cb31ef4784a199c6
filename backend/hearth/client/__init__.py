"""Terminal clients of the HTTP API (chat) and of the model library (models)."""
