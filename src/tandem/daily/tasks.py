"""Background entry point of the daily pipeline (job ``playbooks.daily``, queued by every worker)."""

from __future__ import annotations

import datetime as dt

from tandem.daily.services import daily_pipeline_run, daily_run_key


def daily_pipeline(*, day: str) -> None:
    """Run (or resume, after a killed worker or a failed attempt) the daily pipeline of ``day``."""
    today = dt.date.fromisoformat(day)
    daily_pipeline_run(acting_user=None, today=today, run_key=daily_run_key(today))
