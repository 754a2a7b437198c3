"""What an import did, or would do: counts, warnings and every rejected row with its reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class ImportUsageError(Exception):
    """The file cannot be imported at all (missing file, unreadable format, missing column).

    Distinct from invalid rows: nothing was validated, so there is no per-row report.
    """


@dataclass(frozen=True)
class RowError:
    """One problem with one cell. ``row`` is None for problems that belong to no single row."""

    row: int | None
    column: str
    value: str
    problem: str


@dataclass
class ImportReport:
    """Outcome of one import. Counts are records (subscription terms for subscriptions).

    ``skipped`` counts rows left out because they (or a sibling line of the same subscription)
    were invalid; it is only non-zero with ``skip_invalid``, since otherwise nothing is written.
    """

    entity: str
    path: str
    row_numbers: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    invalid_rows: int = 0
    dry_run: bool = False
    written: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Columns that are no field yet, each offered as a new custom field (tandem.imports.traits).
    trait_offers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data
