"""Tandem: the customer success and account management platform."""

__version__ = "0.1.0"
