"""Revenue retention and cohort/CLV pages: parse the query, call one selector, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.access.shortcuts import ensure_company_figures
from tandem.core.errors import DomainError
from tandem.revenue.charts import movements_chart, mrr_chart, retention_lines_chart
from tandem.revenue.selectors import (
    GRANULARITIES,
    GROUP_FIELDS,
    clv_settings,
    revenue_summary,
    stored_clv,
    stored_cohorts,
)

VIEW = "accounts.view_account"


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


@login_required
@permission_required(VIEW, raise_exception=True)
def revenue_page(request: HttpRequest) -> HttpResponse:
    ensure_company_figures(request.user)
    today = timezone.localdate()
    end = _date(request.GET.get("to"), today)
    start = _date(request.GET.get("from"), dt.date(end.year - 1, end.month, 1))
    by = request.GET.get("by") or "tier"
    granularity = request.GET.get("granularity") or "month"
    context: dict = {
        "start": start,
        "end": end,
        "by": by,
        "granularity": granularity,
        "group_fields": GROUP_FIELDS,
        "granularities": GRANULARITIES,
    }
    try:
        report = revenue_summary(start=start, end=end, by=by if by in GROUP_FIELDS else None, granularity=granularity)
        context["report"] = report
        context["charts"] = [movements_chart(report.periods), mrr_chart(report.periods)]
    except DomainError as exc:
        context["error"] = str(exc)
    return render(request, "revenue/revenue.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
def retention_page(request: HttpRequest) -> HttpResponse:
    ensure_company_figures(request.user)
    today = timezone.localdate()
    by = request.GET.get("by") or "tier"
    if by not in ("tier", "csm", "am", "currency"):
        by = "tier"
    margin, rate = clv_settings()
    for name, label in (("margin", _("Margin")), ("discount_rate", _("Discount rate"))):
        raw = (request.GET.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0:
            messages.error(request, _("%(field)s: '%(value)s' is not a valid number; using the default.") % {
                "field": label, "value": raw,
            })  # fmt: skip
        elif name == "margin":
            margin = value
        else:
            rate = value
    # Cohorts and the sBG fits are computed by the daily pipeline (tandem.revenue.services); the
    # page only reads them, so it never blocks a server thread on a model fit.
    cohorts = stored_cohorts()
    stored = stored_clv(by=by, margin=margin, discount_rate=rate)
    rows = cohorts.value if cohorts is not None and not cohorts.error else []
    recent = rows[-12:]
    longest = max((len(r.logos) for r in recent), default=0)
    labels = [str(k) for k in range(longest)]
    curves = retention_lines_chart(
        _("Logo retention by start cohort (quarters since start)"),
        labels,
        [(r.label, r.logo_retention + [None] * (longest - len(r.logos))) for r in recent[-8:]],
    )
    nrr = retention_lines_chart(
        _("Net revenue retention by start cohort"),
        labels,
        [(r.label, r.revenue_retention + [None] * (longest - len(r.logos))) for r in recent[-8:]],
    )
    clv = stored.value if stored is not None and not stored.error else []
    fitted = [c for c in clv if c.fit is not None]
    horizon = max((len(c.projection) for c in fitted), default=0)
    projection = (
        retention_lines_chart(
            _("Projected survival (sBG), years since start"),
            [str(k) for k in range(horizon)],
            [(c.group, c.projection) for c in fitted],
        )
        if fitted
        else None
    )
    context = {
        "rows": recent,
        "longest": range(longest),
        "charts": ([curves, nrr] if recent else []) + ([projection] if projection else []),
        "computed": cohorts,
        "error": (cohorts.error if cohorts is not None else "") or (stored.error if stored is not None else ""),
        "clv": clv,
        "by": by,
        "margin": margin,
        "discount_rate": rate,
        "today": today,
    }
    return render(request, "revenue/retention.html", context)
