"""`tandem import events FILE...`, `tandem sources ...` and `tandem ingest drain`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tandem.cli.app import console, err_console, fail, setup_django
from tandem.cli.imports import (
    EXIT_INVALID,
    EXIT_OK,
    DelimiterOpt,
    DryRunOpt,
    FormatOpt,
    JsonOpt,
    MapFileOpt,
    MapOpt,
    RichProgress,
    SkipOpt,
    _print_report,
    _usage_error,
    import_app,
)

if TYPE_CHECKING:
    from tandem.imports.report import ImportReport
    from tandem.ingest.models import Source

sources_app = typer.Typer(
    name="sources", help="Event sources and their write keys (tracking API).", no_args_is_help=True
)
ingest_app = typer.Typer(name="ingest", help="The tracking inbox and the event store.", no_args_is_help=True)


@import_app.command("events")
def import_events_command(
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet files.", show_default=False)],
    maps: MapOpt = [],  # noqa: B006
    map_file: MapFileOpt = None,
    fmt: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Usage events into the event store (required: account_external_id, timestamp, event).

    Optional: user_id, quantity, properties (a JSON object), event_id; other columns become
    properties. Importing the same file or overlapping rows again adds nothing.
    """
    setup_django()
    from tandem.imports.events import import_events
    from tandem.imports.mapping import load_mapping
    from tandem.imports.report import ImportUsageError

    reports = []
    try:
        mapping = load_mapping(pairs=maps, map_file=map_file)
        for file in files:
            with RichProgress(enabled=not as_json and err_console.is_terminal) as progress:
                report = import_events(
                    path=file, mapping=mapping, fmt=fmt, delimiter=delimiter,
                    skip_invalid=skip_invalid, dry_run=dry_run, progress=progress,
                )  # fmt: skip
            reports.append(report)
            if not as_json:
                _print_events_report(report)
    except ImportUsageError as exc:
        _usage_error(str(exc), as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in reports], default=str) + "\n")
    raise typer.Exit(EXIT_OK if all(r.ok for r in reports) else EXIT_INVALID)


def _print_events_report(report: ImportReport) -> None:
    if report.errors or report.warnings:
        _print_report(report)
        return
    for note in report.notes:
        console.print(escape(note))
    verb = "Would add" if report.dry_run else "Added"
    console.print(
        f"{report.path}: {verb} {report.created:,} events; {report.unchanged:,} already stored, "
        f"{report.skipped:,} invalid skipped ({report.rows:,} rows)."
    )


@sources_app.command("create")
def sources_create(name: str) -> None:
    """Create a source and print its write key (shown once)."""
    setup_django()
    from tandem.core.errors import DomainError
    from tandem.ingest.services import source_create

    try:
        _source, key = source_create(acting_user=None, name=name)
    except DomainError as exc:
        fail(exc.message, code=2)
        return
    console.print(key)


def _get(name: str) -> Source:
    from tandem.ingest.models import Source

    source = Source.objects.filter(name=name).first()
    if source is None:
        fail(f"no source named '{name}'.", code=2)
    return source


@sources_app.command("list")
def sources_list() -> None:
    """Sources with key prefix, status, counters and last call received."""
    setup_django()
    from tandem.ingest.selectors import sources_overview

    overview = sources_overview()
    table = Table()
    for column in ("Name", "Key", "Status", "Accepted", "Rejected", "Last received"):
        table.add_column(column)
    for s in overview.sources:
        table.add_row(
            escape(s.name),
            f"{s.key_prefix}…",
            "revoked" if s.revoked_at else "active",
            f"{s.received_count:,}",
            f"{s.rejected_count:,}",
            s.last_received_at.isoformat(timespec="seconds") if s.last_received_at else "never",
        )
    console.print(table)
    console.print(
        f"{overview.inbox_backlog:,} calls waiting in the inbox; "
        f"{overview.pending_events:,} events wait for an account."
    )


@sources_app.command("rotate")
def sources_rotate(name: str) -> None:
    """Give a source a new write key (printed); the old key stops working at once."""
    setup_django()
    from tandem.ingest.services import source_rotate

    console.print(source_rotate(acting_user=None, source=_get(name)))


@sources_app.command("revoke")
def sources_revoke(name: str) -> None:
    """Stop accepting a source's write key; stored events stay."""
    setup_django()
    from tandem.ingest.services import source_revoke

    source_revoke(acting_user=None, source=_get(name))
    console.print(f"Revoked the write key of {escape(name)}.")


@ingest_app.command("drain")
def ingest_drain() -> None:
    """Store the calls waiting in the inbox now (safe beside a running `tandem serve`: they take turns)."""
    setup_django()
    from tandem.ingest.ingestor import drain

    result = drain()
    console.print(
        f"{result.calls:,} calls: {result.stored:,} events stored, {result.parked:,} waiting for an account, "
        f"{result.duplicates:,} duplicates skipped, {result.attributed_from_pending:,} earlier events attributed."
    )


@ingest_app.command("compact")
def ingest_compact() -> None:
    """Rewrite the event store sorted by account and time, then delete files no reader needs any more.

    Safe while `tandem serve`, workers and imports run: appends committed meanwhile are kept and
    running queries keep reading the files they started with.
    """
    setup_django()
    from tandem.usage.eventstore import EventStore

    store = EventStore.for_settings()
    replaced = store.compact()
    deleted = store.vacuum()
    console.print(f"Compacted the event store: {replaced:,} files rewritten, {deleted:,} unused files deleted.")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.add_typer(ingest_app, name="ingest")
