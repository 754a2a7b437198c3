"""`tandem import ...`: load accounts, contacts, subscriptions and tickets from files.

Thin: parse options, call tandem.imports.services.import_file, print the report.
Exit codes: 0 imported, 1 invalid rows (nothing written unless --skip-invalid), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgressBar
from rich.table import Table

from tandem.cli.app import console, err_console, setup_django

if TYPE_CHECKING:
    from tandem.imports.report import ImportReport

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
MAX_TABLE_ERRORS = 200

import_app = typer.Typer(
    name="import",
    help=(
        "Load accounts, contacts, subscriptions, tickets and exchange rates from CSV or Parquet. "
        "Every row is validated first; nothing is written if any row is invalid unless "
        "--skip-invalid. Exit codes: 0 ok, 1 invalid rows, 2 usage error. See docs/import.md."
    ),
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="CSV or Parquet file.", show_default=False)]
MapOpt = Annotated[
    list[str],
    typer.Option("--map", help="Read a field from another column: source_column=field. Repeatable."),
]
MapFileOpt = Annotated[
    Path | None,
    typer.Option("--map-file", help='JSON file {"source column": "field", ...}.'),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="csv or parquet (default: from the file extension)."),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option("--delimiter", help="CSV delimiter (default: guessed from the header line)."),
]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Write the valid rows and report the invalid ones."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Validate and report what would change; write nothing.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]
CreateTraitsOpt = Annotated[
    bool,
    typer.Option(
        "--create-traits",
        help="Create each column that is no field yet as a custom field (its type guessed from its values).",
    ),
]


class RichProgress:
    """tandem.imports.progress.Progress drawn as a rich progress bar on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.bar = RichProgressBar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not enabled,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def stage(self, name: str, total: int | None) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[-1].total or 0)
        self.task = self.bar.add_task(name, total=total)

    def advance(self, amount: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, amount)


def _usage_error(message: str, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"ok": False, "usage_error": message}) + "\n")
    else:
        err_console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(EXIT_USAGE)


def _print_report(report: ImportReport) -> None:
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if report.errors:
        table = Table(
            title=f"{report.invalid_rows} invalid row(s)",
            caption=f"Row = {report.row_numbers}",
        )
        for name in ("Row", "Column", "Value", "Problem"):
            table.add_column(name, overflow="fold")
        for error in report.errors[:MAX_TABLE_ERRORS]:
            table.add_row(
                "" if error.row is None else str(error.row),
                escape(error.column),
                escape(error.value),
                escape(error.problem),
            )
        console.print(table)
        if len(report.errors) > MAX_TABLE_ERRORS:
            console.print(f"... and {len(report.errors) - MAX_TABLE_ERRORS} more problems (use --json).")
    for note in report.notes:
        console.print(escape(note))
    counts = (
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped} skipped ({report.rows} rows)"
    )
    if report.dry_run:
        console.print(f"Dry run of {report.entity}: would be {counts}. Nothing was written.")
    elif report.written:
        console.print(f"Imported {report.entity}: {counts}.")
    else:
        console.print(
            f"[bold red]Nothing was written.[/] Fix the rows above or use --skip-invalid "
            f"to import only the valid ones. (Valid rows: {counts}.)"
        )


def run_import(
    *,
    entity: str,
    file: Path,
    maps: list[str],
    map_file: Path | None,
    fmt: str | None,
    delimiter: str | None,
    skip_invalid: bool,
    dry_run: bool,
    as_json: bool,
    create_products: bool = False,
    create_traits: bool = False,
) -> None:
    setup_django()
    from tandem.imports.mapping import load_mapping
    from tandem.imports.report import ImportUsageError
    from tandem.imports.services import import_file

    try:
        mapping = load_mapping(pairs=maps, map_file=map_file)
        with RichProgress(enabled=not as_json and err_console.is_terminal) as progress:
            report = import_file(
                acting_user=None,
                entity=entity,
                path=file,
                mapping=mapping,
                fmt=fmt,
                delimiter=delimiter,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                create_products=create_products,
                create_traits=create_traits,
                progress=progress,
            )
    except ImportUsageError as exc:
        _usage_error(str(exc), as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), default=str) + "\n")
    else:
        _print_report(report)
        if report.trait_offers and not create_traits and sys.stdin.isatty() and console.is_terminal:
            from rich.prompt import Confirm

            if Confirm.ask("Create the columns above as custom fields and import again?", default=False):
                run_import(
                    entity=entity, file=file, maps=maps, map_file=map_file, fmt=fmt, delimiter=delimiter,
                    skip_invalid=skip_invalid, dry_run=dry_run, as_json=as_json,
                    create_products=create_products, create_traits=True,
                )  # fmt: skip
                return
    raise typer.Exit(EXIT_OK if report.ok else EXIT_INVALID)


@import_app.command("accounts")
def import_accounts(
    file: FileArg,
    maps: MapOpt = [],  # noqa: B006
    map_file: MapFileOpt = None,
    fmt: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    create_traits: CreateTraitsOpt = False,
) -> None:
    """Accounts, upserted on external_id (required: external_id, name)."""
    run_import(
        entity="accounts", file=file, maps=maps, map_file=map_file, fmt=fmt,
        delimiter=delimiter, skip_invalid=skip_invalid, dry_run=dry_run, as_json=as_json,
        create_traits=create_traits,
    )  # fmt: skip


@import_app.command("contacts")
def import_contacts(
    file: FileArg,
    maps: MapOpt = [],  # noqa: B006
    map_file: MapFileOpt = None,
    fmt: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    create_traits: CreateTraitsOpt = False,
) -> None:
    """Contacts, upserted on external_id (required: external_id, account_external_id)."""
    run_import(
        entity="contacts", file=file, maps=maps, map_file=map_file, fmt=fmt,
        delimiter=delimiter, skip_invalid=skip_invalid, dry_run=dry_run, as_json=as_json,
        create_traits=create_traits,
    )  # fmt: skip


@import_app.command("subscriptions")
def import_subscriptions(
    file: FileArg,
    maps: MapOpt = [],  # noqa: B006
    map_file: MapFileOpt = None,
    fmt: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    create_products: Annotated[
        bool,
        typer.Option("--create-products", help="Create unknown product codes as plans."),
    ] = False,
) -> None:
    """Subscription terms, one row per line item, grouped by the term's external_id.

    Re-importing a term replaces its line items; account MRR/ARR are refreshed afterwards.
    """
    run_import(
        entity="subscriptions", file=file, maps=maps, map_file=map_file, fmt=fmt,
        delimiter=delimiter, skip_invalid=skip_invalid, dry_run=dry_run, as_json=as_json,
        create_products=create_products,
    )  # fmt: skip


@import_app.command("tickets")
def import_tickets(
    file: FileArg,
    maps: MapOpt = [],  # noqa: B006
    map_file: MapFileOpt = None,
    fmt: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Support tickets, upserted on external_id (required: external_id, account_external_id,
    subject, opened_at)."""
    run_import(
        entity="tickets", file=file, maps=maps, map_file=map_file, fmt=fmt,
        delimiter=delimiter, skip_invalid=skip_invalid, dry_run=dry_run, as_json=as_json,
    )  # fmt: skip


@import_app.command("exchange-rates")
def import_exchange_rates(
    file: FileArg,
    maps: MapOpt = [],  # noqa: B006
    map_file: MapFileOpt = None,
    fmt: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipOpt = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Exchange rates to the reporting currency, upserted on (currency, valid_from)."""
    run_import(
        entity="exchange-rates", file=file, maps=maps, map_file=map_file, fmt=fmt,
        delimiter=delimiter, skip_invalid=skip_invalid, dry_run=dry_run, as_json=as_json,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
