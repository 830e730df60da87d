"""Data capability: safe structured and SQL access to SQLite and PostgreSQL sources."""
