"""The business rules of Exchange Station: standard library only, no Qt, no database."""
