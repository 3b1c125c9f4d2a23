"""Exchange Station: the service-desk counter program of a device refresh programme."""

__version__ = "0.1.0"
