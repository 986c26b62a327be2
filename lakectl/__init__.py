"""lakectl: operations toolkit for a Delta Lake lakehouse."""

__version__ = "0.1.0"
