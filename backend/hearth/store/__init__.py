"""SQLite storage: connection setup, versioned migrations, conversations and messages."""
