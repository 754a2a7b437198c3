"""Computed revenue analytics: the retention summary's default view, cohorts and per-segment sBG
fits, stored once a day.

:func:`revenue_analytics_refresh` is a step of the daily pipeline (``tandem.daily``). It loads the
subscription history once, stores the retention summary's default view (``computations``), builds
the quarterly start cohorts and fits the shifted-beta-geometric model for every segment of every
grouping the page offers (tier, CSM, account manager, currency), and stores per segment what the
lifetime values need: the fit, the paying customers' MRR and their MRR summed by whole years as a
customer. The page then computes CLV for any margin and discount rate from those few numbers
without touching the subscription history (``selectors.stored_clv``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from tandem.core.errors import DomainError
from tandem.revenue.computations import revenue_summary_store
from tandem.revenue.models import RevenueAnalytics
from tandem.revenue.sbg import FitError, fit_sbg
from tandem.revenue.selectors import (
    CLV_GROUPINGS,
    COHORTS_KIND,
    RevenueBase,
    _renewals_survived,
    clv_kind,
    cohort_table,
    revenue_base,
    segment_key,
    survivor_counts,
)


@dataclass(frozen=True)
class RevenueAnalyticsResult:
    """The analytics step of the daily pipeline: what it stored."""

    as_of: dt.date
    cohorts: int
    segments: int
    error: str = ""


def _segments_payload(base: RevenueBase, today: dt.date, by: str, horizon: int = 5) -> list[dict[str, Any]]:
    # Segments are stored by key (the tier's code, a person's name, a currency; "" = all accounts)
    # and labelled when read, in the reader's language.
    labels: dict[str, str] = {}
    for account_id in base.timelines:
        labels.setdefault(segment_key(base, account_id, by), base.group_of(account_id, by))
    out: list[dict[str, Any]] = []
    for key in ["", *sorted(labels, key=lambda k: labels[k])]:
        is_all = key == ""
        group = labels.get(key, "")
        rows = cohort_table(today=today, base=base, by=None if is_all else by, group=None if is_all else group)
        fit_json: dict[str, Any] | None
        try:
            fit = fit_sbg(survivor_counts(rows))
            fit_json, error = dataclasses.asdict(fit), ""
            projection = [fit.survival(t) for t in range(horizon + 1)]
        except FitError as exc:
            fit_json, error, projection = None, str(exc), []
        by_renewals: dict[int, Decimal] = defaultdict(lambda: Decimal("0"))
        customers = 0
        mrr = Decimal("0")
        for t in base.timelines.values():
            if not is_all and segment_key(base, t.account_id, by) != key:
                continue
            now = t.at(today).mrr
            if now <= 0:
                continue
            customers += 1
            mrr += now
            by_renewals[_renewals_survived(t, today)] += now
        out.append(
            {
                "key": key,
                "fit": fit_json,
                "error": error,
                "customers": customers,
                "mrr": str(mrr),
                "projection": projection,
                "mrr_by_renewals": {str(n): str(v) for n, v in sorted(by_renewals.items())},
            }
        )
    return out


def _store(kind: str, *, today: dt.date, seconds: float, payload: dict[str, Any], error: str = "") -> None:
    RevenueAnalytics.objects.update_or_create(
        kind=kind,
        defaults={
            "as_of": today,
            "computed_at": timezone.now(),
            "seconds": round(seconds, 3),
            "payload": payload,
            "error": error,
        },
    )


@transaction.atomic
def revenue_analytics_refresh(*, today: dt.date | None = None) -> RevenueAnalyticsResult:
    """Recompute and store the retention summary's default view, the cohorts and every segment's sBG
    fit as of ``today`` (idempotent)."""
    today = today or timezone.localdate()
    started = time.monotonic()
    try:
        base = revenue_base(rates_on=today)
    except DomainError as exc:
        message = str(exc)
        for kind in [COHORTS_KIND, *(clv_kind(by) for by in CLV_GROUPINGS)]:
            _store(kind, today=today, seconds=0, payload={}, error=message)
        return RevenueAnalyticsResult(as_of=today, cohorts=0, segments=0, error=message)
    revenue_summary_store(base=base, today=today)
    rows = cohort_table(today=today, base=base)
    _store(
        COHORTS_KIND,
        today=today,
        seconds=time.monotonic() - started,
        payload={"rows": [dataclasses.asdict(r) for r in rows]},
    )
    segments = 0
    for by in CLV_GROUPINGS:
        started = time.monotonic()
        payload = _segments_payload(base, today, by)
        segments += len(payload)
        _store(clv_kind(by), today=today, seconds=time.monotonic() - started, payload={"segments": payload})
    return RevenueAnalyticsResult(as_of=today, cohorts=len(rows), segments=segments)
