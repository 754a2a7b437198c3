"""`tandem health ...`: score scorecards and backtest them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

health_app = typer.Typer(help="Health scorecards: scoring and backtests.", no_args_is_help=True)


AS_OF_HELP = (
    "Data through this date (YYYY-MM-DD): only churn whose horizon ends by then is labelled. "
    "Default: the latest term start in the subscription history."
)


def register(app: typer.Typer) -> None:
    app.add_typer(health_app, name="health")


def parse_as_of(value: str | None) -> dt.date | None:
    """``--as-of DATE`` of the commands that label churn: a day no later than today, or None.

    Exits with code 2 and a message that names the option when the value is not such a day. Call
    after ``setup_django`` (the message is translated, today is in the configured time zone).
    """
    from django.utils import timezone
    from django.utils.translation import gettext as _
    from rich.markup import escape

    from tandem.cli.app import fail

    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        fail(_("--as-of must be a date like 2025-06-30, not '%(value)s'.") % {"value": escape(value)}, code=2)
        raise  # unreachable: fail() exits
    today = timezone.localdate()
    if day > today:
        fail(
            _("--as-of %(day)s is after today (%(today)s): the data cannot reach a day that has not come yet.")
            % {"day": day.isoformat(), "today": today.isoformat()},
            code=2,
        )
    return day


def data_through_line(*, day: str | None, given: bool) -> str:
    """One translated line saying which date bounds the labels and where it came from."""
    from django.utils.translation import gettext as _

    if given:
        return _("Churn is observed through %(day)s (given with --as-of).") % {"day": day}
    return _(
        "Churn is observed through %(day)s, the latest term start in the subscription history "
        "(pass --as-of to change it)."
    ) % {"day": day}


@health_app.command("score")
def score(
    all_dates: Annotated[
        bool, typer.Option("--all", help="Score every metric snapshot date, not only the latest.")
    ] = False,
) -> None:
    """Score every active scorecard and refresh the current scores."""
    from tandem.cli.app import console, setup_django

    setup_django()
    from tandem.health.services import health_score_dates, health_update_current, scorecards_install_defaults
    from tandem.metrics.selectors import metric_snapshot_dates

    scorecards_install_defaults(acting_user=None)
    dates = metric_snapshot_dates()
    result = health_score_dates(dates=dates if all_dates else dates[-1:])
    health_update_current()
    console.print(
        f"Scored {result.scorecards} scorecard(s) on {result.dates} date(s), "
        f"{result.accounts:,} accounts, in {result.seconds:.1f}s."
    )


@health_app.command("backtest")
def backtest(
    scorecard: Annotated[str, typer.Option(help="Scorecard name.")] = "Overall health",
    horizon: Annotated[str, typer.Option(help="How far ahead churn or contraction counts, e.g. 90d.")] = "90d",
    suggest_weights: Annotated[
        bool, typer.Option("--suggest-weights", help="Also fit and backtest suggested weights.")
    ] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay a scorecard over the metric history and report how well it ranked later churn."""
    from tandem.cli.app import console, fail, setup_django
    from tandem.metrics.cli import parse_days

    setup_django()
    through = parse_as_of(as_of)
    from dataclasses import asdict

    from tandem.core.errors import DomainError
    from tandem.health.models import Scorecard
    from tandem.health.services import health_backtest

    card = Scorecard.objects.filter(name=scorecard).first()
    if card is None:
        fail(f"no scorecard named '{scorecard}'.", code=2)
        return
    try:
        out = health_backtest(
            scorecard=card, horizon_days=parse_days(horizon), data_through=through, with_suggestion=suggest_weights
        )
    except DomainError as exc:
        fail(f"{exc} {'; '.join(e.message for e in exc.errors)}", code=2)
        return
    report = out["report"]
    if as_json:
        data = report.as_dict()
        data.pop("roc")
        if out["suggestion"] is not None:
            s = out["suggestion"]
            data["suggestion"] = {
                "weights": [asdict(w) for w in s.weights],
                "current_test_auc": s.current_test.auc,
                "suggested_test_auc": s.suggested_test.auc,
            }
        console.print_json(json.dumps(data))
        return
    console.print(data_through_line(day=report.data_through, given=report.data_through_given), soft_wrap=True)
    if report.auc is None:
        fail(report.message, code=3)
    console.print(
        f"[bold]{report.scorecard}[/], horizon {report.horizon_days} days: {report.observations:,} "
        f"observations on {report.dates} dates, {report.positives:,} churned or contracted "
        f"({report.base_rate:.1%})."
    )
    console.print(f"AUC {report.auc:.3f}   top-decile lift {report.top_decile_lift:.2f}x")
    console.print("Calibration (score band: observations, churn/contraction rate):")
    for row in report.calibration:
        console.print(f"  {row.low:>3.0f}-{row.high:<3.0f} {row.n:>7,}  {row.rate:6.1%}")
    console.print("Each measure's own AUC:")
    for m in report.measures:
        console.print(
            f"  {m.metric:<32} weight {m.weight:<5g} AUC {m.auc:.3f}" if m.auc is not None else f"  {m.metric:<32} —"
        )
    s = out["suggestion"]
    if s is not None:
        console.print(
            f"Suggested weights (fitted on {s.train_dates} earlier dates, tested on {s.test_dates} later ones):"
        )
        for w in s.weights:
            console.print(f"  {w.metric:<32} {w.current:>6.2f} -> {w.suggested:>6.2f}")
        console.print(f"Test AUC: current {s.current_test.auc:.3f}, suggested {s.suggested_test.auc:.3f}")
