"""The station's local store: SQLAlchemy 2.x models over SQLite (WAL, synchronous=FULL)."""
