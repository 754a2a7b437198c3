"""Import a CSV or Parquet file of one entity: read, map, validate everything, then write in bulk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.audit.context import audit_context, write_service
from tandem.audit.models import AuditVia
from tandem.core.errors import DomainError
from tandem.imports.entities import ENTITIES
from tandem.imports.entities.base import Context, Entity, Plan, Row
from tandem.imports.mapping import ColumnMap, resolve_columns
from tandem.imports.progress import NoProgress, Progress
from tandem.imports.readers import Table, read_table
from tandem.imports.report import ImportReport, ImportUsageError, RowError
from tandem.imports.traits import offer_text, parse_traits, trait_columns, write_traits

if TYPE_CHECKING:
    from tandem.users.models import User


class _Abort(Exception):
    """Raised inside the transaction to roll back everything the import wrote."""

    def __init__(self, error: RowError) -> None:
        self.error = error


@write_service(atomic=False)  # the file is read and parsed outside the transaction of the writes
def import_file(
    *,
    acting_user: User | None,
    entity: str,
    path: Path,
    mapping: dict[str, str] | None = None,
    fmt: str | None = None,
    delimiter: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    create_products: bool = False,
    create_traits: bool = False,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Validate every row, then write all valid rows in one transaction.

    Nothing is written when a row is invalid unless ``skip_invalid``; nothing at all with
    ``dry_run``. Raises ImportUsageError when the file cannot be imported at all. Every row
    written is recorded in the audit history as via "import", as ``acting_user``'s when given.
    """
    spec = ENTITIES.get(entity)
    if spec is None:
        raise ImportUsageError(f"unknown entity '{entity}'; use one of: {', '.join(ENTITIES)}.")
    progress = progress or NoProgress()
    progress.stage(f"Reading {path.name}", None)
    table = read_table(path, fmt=fmt, delimiter=delimiter)
    columns = resolve_columns(header=table.columns, fields=spec.fields, required=spec.required, mapping=mapping or {})
    report = ImportReport(
        entity=entity,
        path=str(path),
        row_numbers=table.row_numbers,
        rows=len(table.rows) + len(table.errors),
        dry_run=dry_run,
        warnings=list(columns.warnings),
    )
    rows = parse_rows(table, spec, columns, progress)
    traits = trait_columns(entity=entity, table=table, columns=columns, create_traits=create_traits)
    if traits is not None:
        # Columns that fill a custom field, or are offered as one, are not "ignored".
        handled = {traits.columns[k] for k in traits.positions} | {o.column for o in traits.offers}
        report.warnings = [w for w in report.warnings if not any(f"column '{c}' " in w for c in handled)]
        report.warnings += [offer_text(o) for o in traits.offers if not o.created]
        report.trait_offers = [offer_text(o) for o in traits.offers]
        parse_traits(rows, table, traits)
    ctx = Context(
        columns=columns,
        today=today or timezone.localdate(),
        now=timezone.now(),
        progress=progress,
        create_products=create_products,
        acting_user=acting_user,
    )
    try:
        if dry_run:
            plan = spec.plan(rows, ctx)
            _fill_report(report, plan, rows, table, skip_invalid)
            if traits is not None and traits.offers and create_traits:
                report.notes += [f"Would create the custom field '{o.key}'." for o in traits.offers]
        else:
            # One transaction around validation and writes: lookups cannot go stale in between,
            # and a failure late in the writes (a missing exchange rate) undoes every write.
            with transaction.atomic(), audit_context(via=AuditVia.IMPORT):
                plan = spec.plan(rows, ctx)
                _fill_report(report, plan, rows, table, skip_invalid)
                if report.errors and not skip_invalid:
                    return report
                _write(plan, ctx)
                if traits is not None:
                    _count, notes = write_traits(acting_user=acting_user, found=traits, rows=rows, now=ctx.now)
                    report.notes += notes
                report.written = True
    except _Abort as abort:
        report.errors.append(abort.error)
        report.written = False
    return report


def parse_rows(table: Table, spec: Entity, columns: ColumnMap, progress: Progress) -> list[Row]:
    """Turn text cells into typed values; each unparseable cell becomes an error on its row."""
    progress.stage("Parsing", len(table.rows))
    parsers = [(f, columns.index[f], spec.parser(f), f in spec.required) for f in columns.index]
    rows: list[Row] = []
    for count, (number, cells) in enumerate(table.rows, 1):
        row = Row(number=number, raw={f: cells[i] for f, i, _, _ in parsers})
        for field_name, position, parse, required in parsers:
            text = cells[position]
            if not text:
                row.values[field_name] = None
                if required:
                    row.errors.append(RowError(number, columns.column(field_name), "", "a value is required."))
                continue
            try:
                row.values[field_name] = parse(text)
            except ValueError as exc:
                row.errors.append(RowError(number, columns.column(field_name), text, str(exc)))
        rows.append(row)
        if count % 5000 == 0:
            progress.advance(5000)
    progress.advance(len(table.rows) % 5000)
    return rows


def _fill_report(report: ImportReport, plan: Plan, rows: list[Row], table: Table, skip_invalid: bool) -> None:
    errors = list(table.errors)
    invalid = len(table.errors)
    for row in rows:
        if row.errors:
            invalid += 1
            errors.extend(row.errors)
    report.errors = sorted(errors, key=lambda e: e.row or 0)  # stable: file order within a row
    report.invalid_rows = invalid
    report.created, report.updated, report.unchanged = plan.created, plan.updated, plan.unchanged
    report.skipped = invalid if skip_invalid else 0
    report.notes = list(plan.notes)


def _write(plan: Plan, ctx: Context) -> None:
    try:
        plan.write(ctx)
    except DomainError as exc:
        # account_refresh_revenue refuses when a currency has no exchange rate.
        column = exc.errors[0].field if exc.errors else ""
        raise _Abort(RowError(None, column, "", f"{exc}; nothing was written.")) from exc
    except IntegrityError as exc:
        raise _Abort(RowError(None, "", "", f"the database refused the import ({exc}); nothing was written.")) from exc
