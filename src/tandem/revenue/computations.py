"""The revenue retention summary as a stored result or a worker computation (tandem.jobs.computations).

Rebuilding every account's MRR timeline from the subscription history and summarising it per
period takes seconds at tens of thousands of accounts, so no request does it. The daily pipeline's
analytics step stores the page's default view (the last twelve months by month, broken down by
tier) with :func:`revenue_summary_store`; any other range, grouping or period length, and a
"Recompute now", run on a worker while the page shows their progress. A result is kept for the day
under a key made of its options and the day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.core.errors import DomainError
from tandem.jobs.computations import Output, Progress, computation_store
from tandem.jobs.models import Computation
from tandem.revenue.engine import PeriodSummary
from tandem.revenue.selectors import RevenueBase, RevenueReport, revenue_summary

SUMMARY_KIND = "revenue.summary"
DEFAULT_BY = "tier"
DEFAULT_GRANULARITY = "month"
_DECIMAL_FIELDS = {f.name for f in dataclasses.fields(PeriodSummary) if f.type in ("Decimal", Decimal)}
_DATE_FIELDS = {"start", "end"}


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The page's default range: from the first day of the month a year ago to today."""
    return dt.date(today.year - 1, today.month, 1), today


def summary_params(*, start: dt.date, end: dt.date, by: str | None, granularity: str, today: dt.date) -> dict[str, Any]:
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "by": by or "",
        "granularity": granularity,
        "today": today.isoformat(),
    }


def summary_key(params: dict[str, Any]) -> str:
    """One key per options and day: a new day (or a recompute) computes it again."""
    return f"{SUMMARY_KIND}:{params['start']}:{params['end']}:{params['by']}:{params['granularity']}:{params['today']}"


def _summary_to_json(summary: PeriodSummary) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(summary):
        value = getattr(summary, f.name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[f.name] = value
    return out


def _summary_from_json(data: dict[str, Any]) -> PeriodSummary:
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DATE_FIELDS:
            values[name] = dt.date.fromisoformat(value)
        elif name in _DECIMAL_FIELDS:
            values[name] = Decimal(value)
        else:
            values[name] = value
    return PeriodSummary(**values)


def report_to_json(report: RevenueReport) -> dict[str, Any]:
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "currency": report.currency,
        "rates_on": report.rates_on.isoformat(),
        "by": report.by,
        "granularity": report.granularity,
        "total": _summary_to_json(report.total),
        "periods": [_summary_to_json(p) for p in report.periods],
        "groups": [[name, _summary_to_json(s)] for name, s in report.groups],
    }


def report_from_json(data: dict[str, Any]) -> RevenueReport:
    return RevenueReport(
        start=dt.date.fromisoformat(data["start"]),
        end=dt.date.fromisoformat(data["end"]),
        currency=data["currency"],
        rates_on=dt.date.fromisoformat(data["rates_on"]),
        by=data["by"],
        granularity=data["granularity"],
        total=_summary_from_json(data["total"]),
        periods=[_summary_from_json(p) for p in data["periods"]],
        groups=[(name, _summary_from_json(s)) for name, s in data["groups"]],
    )


def _summary_output(params: dict[str, Any], *, base: RevenueBase | None = None) -> Output:
    try:
        report = revenue_summary(
            start=dt.date.fromisoformat(params["start"]),
            end=dt.date.fromisoformat(params["end"]),
            by=params["by"] or None,
            granularity=params["granularity"],
            base=base,
        )
    except DomainError as exc:
        return Output(result={"error": str(exc)})
    return Output(result={"report": report_to_json(report)})


def summary_compute(params: dict[str, Any], progress: Progress) -> Output:
    from django.utils.translation import gettext as _

    progress(10, _("Rebuilding every account's MRR from the subscription history"))
    return _summary_output(params)


def summary_context(row: Computation) -> dict[str, Any]:
    """What the summary template shows, from a finished computation."""
    from tandem.revenue.charts import movements_chart, mrr_chart

    if row.result.get("error"):
        return {"error": row.result["error"], "computation": row}
    report = report_from_json(row.result["report"])
    return {
        "report": report,
        "charts": [movements_chart(report.periods), mrr_chart(report.periods)],
        "computation": row,
    }


def summary_render(request: HttpRequest, row: Computation) -> HttpResponse:
    from tandem.access.shortcuts import ensure_company_figures

    ensure_company_figures(request.user)  # the stored daily result is shared: check the reader, not the row
    return render(request, "revenue/_summary.html", summary_context(row))


def revenue_summary_store(*, base: RevenueBase, today: dt.date) -> Computation:
    """The daily pipeline: store the page's default summary, from the history already loaded (idempotent)."""
    start, end = default_range(today)
    params = summary_params(start=start, end=end, by=DEFAULT_BY, granularity=DEFAULT_GRANULARITY, today=today)
    return computation_store(
        kind=SUMMARY_KIND, key=summary_key(params), params=params, output=_summary_output(params, base=base)
    )
