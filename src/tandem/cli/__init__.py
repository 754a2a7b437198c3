"""The ``tandem`` command: the single entry point for running and administering Tandem."""

from tandem.cli.app import main

__all__ = ["main"]
