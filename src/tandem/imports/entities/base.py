"""Shared machinery of the per-entity importers: rows, context, model validation, diffing, writes.

Each entity module turns parsed rows into a ``Plan`` (what to create, update or leave alone)
without writing anything, so validation can finish before the first write and a dry run is
just a plan that is never applied.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models

from tandem.audit.bulk import bulk_save
from tandem.core.bulk import IN_CHUNK, fetch_in_chunks
from tandem.core.models import concrete_field
from tandem.imports.mapping import ColumnMap
from tandem.imports.progress import Progress
from tandem.imports.report import RowError
from tandem.imports.values import Parser, parse_text

if TYPE_CHECKING:
    from tandem.users.models import User


@dataclass(frozen=True)
class Column:
    """A field an import file may carry."""

    name: str
    parse: Parser = parse_text
    required: bool = False
    description: str = ""


@dataclass
class Row:
    """One data row: raw text and parsed values of the fields present in the file.

    ``values[field]`` is None for an empty cell; a field missing from ``values`` had no column
    (or failed to parse, in which case ``errors`` says why).
    """

    number: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    traits: dict[str, Any] = field(default_factory=dict)  # custom-field values (tandem.imports.traits)

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class Context:
    """Everything an entity importer needs besides the rows."""

    columns: ColumnMap
    today: dt.date
    now: dt.datetime
    progress: Progress
    create_products: bool = False
    acting_user: User | None = None  # who runs the import: the owning apps' bulk services record it
    # Memo of field validation results, see clean_model().
    validated: dict[Any, list[str]] = field(default_factory=dict)

    def has(self, field_name: str) -> bool:
        """Whether the file has a column for the field (absent columns leave stored values alone)."""
        return field_name in self.columns.index

    def fail(self, row: Row, field_name: str, problem: str, *, value: str | None = None) -> None:
        row.errors.append(
            RowError(
                row=row.number,
                column=self.columns.column(field_name) if field_name else "",
                value=row.raw.get(field_name, "") if value is None else value,
                problem=problem,
            )
        )


class Plan(ABC):
    """What an import will change. ``write`` runs inside the import's transaction."""

    def __init__(self) -> None:
        self.created = 0
        self.updated = 0
        self.unchanged = 0
        self.notes: list[str] = []

    @abstractmethod
    def write(self, ctx: Context) -> None: ...


@dataclass(frozen=True)
class Entity:
    """An importable entity: its columns and the function that plans its rows."""

    name: str
    columns: tuple[Column, ...]
    plan: Callable[[list[Row], Context], Plan]
    key_description: str

    @property
    def fields(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def parser(self, field_name: str) -> Parser:
        return next(c.parse for c in self.columns if c.name == field_name)


def empty_value(model_field: models.Field) -> Any:
    """What an empty cell stores: NULL where allowed, else the field default, else ''."""
    if model_field.null:
        return None
    if model_field.has_default():
        return model_field.get_default()
    return ""


def copy_simple_fields(
    model: type[models.Model], row: Row, ctx: Context, names: Iterable[str], desired: dict[str, Any]
) -> None:
    """Copy fields whose import name is the model field name into ``desired``."""
    for name in names:
        if ctx.has(name) and name in row.values:
            value = row.values[name]
            desired[name] = value if value is not None else empty_value(concrete_field(model, name))


def clean_model(
    instance: models.Model,
    *,
    row: Row,
    ctx: Context,
    fields: Iterable[str],
    run_clean: bool = True,
    field_for: dict[str, str] | None = None,
) -> None:
    """Run the model's own field validation and clean() and put any failure on the row.

    Only ``fields`` (model field names, the ones the file sets) are validated: the others hold
    stored or default values. Callers leave out foreign keys (resolved from preloaded dicts)
    and uniqueness (checked in bulk): Django checks both with one query per instance, which
    100,000 rows cannot afford. Results for repeated non-text values (dates, choices, numbers)
    are memoised because validating a value does not depend on the rest of the row.
    """
    field_for = field_for or {}
    errors: dict[str, list[str]] = {}
    # A cell that failed to parse (or was required and empty) is already reported once.
    failed = {e.column for e in row.errors}
    for name in fields:
        if ctx.columns.column(field_for.get(name, name)) in failed:
            continue
        model_field = concrete_field(instance, name)
        value = getattr(instance, model_field.attname)
        if model_field.blank and value in model_field.empty_values:
            continue  # as Model.clean_fields does
        key = (model_field, value) if model_field.choices or not isinstance(value, str) else None
        messages = ctx.validated.get(key) if key else None  # None: not validated yet
        if messages is None:
            try:
                model_field.clean(value, instance)
                messages = []
            except ValidationError as exc:
                messages = exc.messages
            if key:
                ctx.validated[key] = messages
        if messages:
            errors[name] = messages
    if not errors and run_clean:
        try:
            instance.clean()
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for name, messages in errors.items():
        column = "" if name == "__all__" else field_for.get(name, name)
        for message in messages:
            ctx.fail(row, column, message)


def plain_fields(model: type[models.Model], desired: dict[str, Any]) -> list[str]:
    """The non-relation fields among ``desired``'s attnames: what clean_model should check."""
    names = (model._meta.get_field(attname) for attname in desired)
    return [f.name for f in names if not f.is_relation]


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        # 10 and 10.00 are the same stored amount.
        return value.normalize()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if value is not None and not isinstance(value, str | int | float | bool | dt.date):
        return str(value)  # e.g. django_countries' Country, compared by code
    return value


def differs(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    for name, value in desired.items():
        stored = existing.get(name)
        # Plain equality settles nearly every comparison; normalise only when it says "differ".
        if stored != value and _comparable(stored) != _comparable(value):
            return True
    return False


def concrete_attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def mark_duplicates(
    rows: Iterable[Row],
    ctx: Context,
    *,
    key: Callable[[Row], Hashable | None],
    field_name: str,
    what: str,
) -> None:
    """Reject every row sharing a key with another row: which copy is right is unknowable."""
    seen: dict[Hashable, list[Row]] = defaultdict(list)
    for row in rows:
        value = key(row)
        if value is not None:
            seen[value].append(row)
    for group in seen.values():
        if len(group) < 2:
            continue
        for row in group:
            others = ", ".join(str(r.number) for r in group if r is not row)
            ctx.fail(row, field_name, f"duplicate {what} in this file (also on row {others}).")


def bulk_write(
    model: type[models.Model],
    *,
    creates: Sequence[models.Model],
    updates: Sequence[models.Model],
    fields: Sequence[str],
    ctx: Context,
    describe: Callable[[Any], str] | None = None,
) -> None:
    """The importer's shorthand for :func:`tandem.audit.bulk.bulk_save` with its clock and progress."""
    bulk_save(
        model, creates=creates, updates=updates, fields=fields, now=ctx.now, progress=ctx.progress, describe=describe
    )


__all__ = ["IN_CHUNK", "fetch_in_chunks"]
