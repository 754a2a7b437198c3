"""Helpers for Tandem's own test suite (and for plugins that want to test against Tandem)."""
