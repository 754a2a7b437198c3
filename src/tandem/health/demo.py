"""The demo's health step: metric history, scored health history and the churn model, up to yesterday.

Today itself (metric snapshot, health scores, churn risk) is computed by the daily pipeline, which
runs as a later demo step (``tandem.daily.demo``), exactly as every day after it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from tandem.demo.pipeline import HISTORY_EVERY_DAYS, DemoContext

log = logging.getLogger(__name__)

# Metric history every 21 days (by default) over ~2.4 years, plus the dates the 7- and 30-day trends
# compare with.
HISTORY_DAYS = 21 * 42


def demo_dates(today: dt.date, every_days: int = HISTORY_EVERY_DAYS) -> list[dt.date]:
    """The history's snapshot dates: every ``every_days`` back over the same span, whatever the step."""
    steps = HISTORY_DAYS // every_days
    dates = {today - dt.timedelta(days=every_days * n) for n in range(steps + 1)}
    dates |= {today - dt.timedelta(days=7), today - dt.timedelta(days=30)}
    return sorted(dates)


def demo_step(ctx: DemoContext) -> None:
    """Install default metrics (plus per-event ones) and scorecards, compute and score the history
    before ``ctx.today``, and train the churn model on it."""
    from tandem.core.errors import DomainError
    from tandem.health.services import (
        health_band_history_record,
        health_score_dates,
        health_update_current,
        scorecards_install_defaults,
    )
    from tandem.metrics import store
    from tandem.metrics.services import metrics_compute, metrics_install_defaults, metrics_suggest
    from tandem.risk.services import risk_train
    from tandem.timeline.models import EventKind, TimelineEvent

    metrics_install_defaults(acting_user=None)
    metrics_suggest(acting_user=None)
    scorecards_install_defaults(acting_user=None)
    # A rebuild replaces the company: old snapshots describe accounts that no longer exist.
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")
    dates = [d for d in demo_dates(ctx.today, ctx.history_every_days) if d < ctx.today]
    advance = ctx.phases.start("Computing metric history", len(dates))
    metrics_compute(dates=dates, update_current=False, advance=advance)
    advance = ctx.phases.start("Scoring health history and training the churn model", 2)
    health_score_dates(dates=dates)
    # The history's band changes on the timeline, and its last scores as the current ones, which
    # today's run of the daily pipeline compares its own bands with (and records the changes).
    with transaction.atomic():
        if dates:
            health_update_current(as_of=dates[-1])
        # Replaces what the history had recorded before (a rebuild's step run again), and what moving
        # the current scores back to the history's last date just recorded as changes.
        TimelineEvent.objects.filter(account__external_id__startswith="demo-", kind=EventKind.HEALTH_CHANGED).delete()
        health_band_history_record(dates=dates)
    advance(1)
    try:
        # Observations of the last 90 days have no outcome yet, so today's snapshot would not
        # change what the model learns: training before the daily pipeline computes it is the same.
        risk_train(today=ctx.today)
    except DomainError as exc:  # a tiny demo (tests) may not have enough churn to learn from
        log.warning("churn model not trained: %s", exc)
    advance(1)
