"""`tandem import ...`: load accounts, contacts, subscriptions and tickets from files."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
