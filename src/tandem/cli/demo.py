"""`tandem demo`: build the demo company (implemented in tandem.demo) and serve it."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
