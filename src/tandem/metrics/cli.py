"""`tandem metrics ...`: load, suggest, compute and refresh metric snapshots."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated

import typer

metrics_app = typer.Typer(help="Metric definitions and point-in-time snapshots.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(metrics_app, name="metrics")


def parse_days(value: str) -> int:
    """'7d', '90d', '2w' or a plain number of days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", value)
    if not match:
        raise typer.BadParameter(f"expected a duration like 7d or 2w, not '{value}'")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option} must be a date like 2025-06-30, not '{value}'") from None


@metrics_app.command("load")
def load(file: Path) -> None:
    """Create or update metric definitions from a YAML file (a list of metrics)."""
    from tandem.cli.app import console, fail, setup_django

    setup_django()
    from tandem.core.errors import DomainError
    from tandem.metrics.services import metrics_load_yaml

    if not file.exists():
        fail(f"no such file: {file}", code=2)
    try:
        created, updated = metrics_load_yaml(acting_user=None, text=file.read_text())
    except DomainError as exc:
        fail(f"{exc}: {'; '.join(e.message for e in exc.errors)}", code=2)
        return
    console.print(f"Loaded metrics: {created} created, {updated} updated.")


@metrics_app.command("suggest")
def suggest(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the suggestion without saving it.")] = False,
) -> None:
    """Add a starter set built from the event names in the event store (existing keys are kept)."""
    from tandem.cli.app import console, setup_django

    setup_django()
    from tandem.metrics.services import metrics_install_defaults, metrics_suggest

    if not dry_run:
        metrics_install_defaults(acting_user=None)
    new = metrics_suggest(acting_user=None, apply=not dry_run)
    for item in new:
        console.print(f"  {item['key']:<34} {item['kind']:<16} {item['name']}")
    console.print(f"{'Would add' if dry_run else 'Added'} {len(new)} metrics.")


@metrics_app.command("compute")
def compute(
    as_of: Annotated[str | None, typer.Option("--as-of", help="One as-of date (default: today).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First date of a history run.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date of a history run (default: today).")] = None,
    every: Annotated[str, typer.Option(help="Spacing of a history run, e.g. 7d.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Compute every active metric for every account at one date, or at each date of a history."""
    from tandem.cli.app import console, fail, setup_django

    setup_django()
    from django.utils import timezone

    from tandem.core.errors import DomainError
    from tandem.metrics.engine import as_of_dates
    from tandem.metrics.services import metrics_compute

    today = timezone.localdate()
    if start:
        dates = as_of_dates(
            start=parse_date(start, "--from"),
            end=parse_date(end, "--to") if end else today,
            every_days=parse_days(every),
        )
    else:
        dates = [parse_date(as_of, "--as-of") if as_of else today]
    try:
        result = metrics_compute(dates=dates)
    except DomainError as exc:
        fail(f"{exc} {'; '.join(e.message for e in exc.errors)}", code=2)
        return
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "dates": [str(d) for d in result.dates],
                    "accounts": result.accounts,
                    "metrics": result.metrics,
                    "seconds": round(result.seconds, 2),
                }
            )
        )
    else:
        console.print(
            f"Computed {result.metrics} metrics for {result.accounts:,} accounts on {len(result.dates)} date(s) "
            f"in {result.seconds:.1f}s."
        )


@metrics_app.command("refresh")
def refresh(
    today: Annotated[str | None, typer.Option(help="Run as of this day (YYYY-MM-DD; default: today).")] = None,
) -> None:
    """The daily pipeline now: metrics, health, churn risk, renewals, rules, CTAs, digests (idempotent)."""
    from tandem.cli.app import console, fail, setup_django

    day = parse_date(today, "--today") if today else None
    setup_django()
    from django.utils import timezone

    from tandem.cli.daily import PipelinePrinter
    from tandem.core.errors import DomainError
    from tandem.daily.services import daily_pipeline_run

    printer = PipelinePrinter(console)
    try:
        result = daily_pipeline_run(acting_user=None, today=day or timezone.localdate(), observer=printer)
    except DomainError as exc:
        printer.close()
        fail(printer.failed(exc), code=2)
        return
    printer.close()
    printer.finished(result)
