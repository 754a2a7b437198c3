"""A tiny progress interface: services (imports, bulk writes) report progress without knowing about rich."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, name: str, total: int | None) -> None:
        """Start a new stage (reading, validating, writing); ``total`` is in rows when known."""

    def advance(self, amount: int = 1) -> None:
        """Mark ``amount`` more rows of the current stage as done."""


class NoProgress:
    """The default: report nothing."""

    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass
