"""Front Desk: the front desk of a health and wellness clinic."""

__version__ = "0.1.0"
