"""`tandem worker` and `tandem rules evaluate`: run background jobs, evaluate rules now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        burst: Annotated[bool, typer.Option("--burst", help="Exit once no job is due.")] = False,
        poll: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 1.0,
        no_schedule: Annotated[bool, typer.Option("--no-schedule", help="Do not queue the daily run.")] = False,
    ) -> None:
        """Run background jobs (rules, playbook emails, notifications, digests); start several to scale out."""
        from tandem.cli.app import console, setup_django

        setup_django()
        from tandem.jobs.worker import run_worker

        stats = run_worker(burst=burst, poll_seconds=poll, schedule=not no_schedule)
        console.print(f"jobs done: {stats.done}, deferred: {stats.deferred}, failed: {stats.failed}")

    rules_app = typer.Typer(help="Rules and calls to action.", no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @rules_app.command("evaluate")
    def evaluate(
        today: Annotated[str | None, typer.Option(help="Evaluate as of this day (YYYY-MM-DD).")] = None,
        queue: Annotated[bool, typer.Option("--queue", help="Queue the daily run for a worker instead.")] = False,
    ) -> None:
        """Evaluate every active rule now and open CTAs for new matches (idempotent)."""
        from tandem.cli.app import console, setup_django

        setup_django()
        from django.utils import timezone

        from tandem.jobs.services import job_enqueue
        from tandem.playbooks.services import rules_evaluate

        day = dt.date.fromisoformat(today) if today else timezone.localdate()
        if queue:
            job_enqueue(name="playbooks.daily", payload={"day": day.isoformat()}, key=f"daily:{day}")
            console.print(f"queued the daily run for {day}")
            return
        report = rules_evaluate(acting_user=None, today=day)
        for outcome in report.rules:
            note = f" ({outcome.unavailable})" if outcome.unavailable else ""
            console.print(f"rule {outcome.rule_id}: {outcome.matched} match, {outcome.opened} opened{note}")
        console.print(f"opened {report.opened} calls to action")
