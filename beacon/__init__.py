"""GA4GH Beacon v2 server."""

__version__ = "0.1.0"
