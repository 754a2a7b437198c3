"""The triggers, one module per family; importing this package registers them all in ``TRIGGERS``."""

from tandem.playbooks.rules.triggers import customer, health, risk, usage

__all__ = ["customer", "health", "risk", "usage"]
