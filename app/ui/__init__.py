"""The counter window: the only package that imports PySide6. It calls services, never persistence."""
