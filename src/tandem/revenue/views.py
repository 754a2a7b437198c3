"""Revenue retention and cohort/CLV pages: parse the query, call one selector, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.shortcuts import ensure_company_figures
from tandem.core.errors import DomainError
from tandem.jobs.computations import computation_start
from tandem.jobs.models import Computation, JobStatus
from tandem.revenue.charts import retention_lines_chart
from tandem.revenue.computations import (
    DEFAULT_BY,
    DEFAULT_GRANULARITY,
    SUMMARY_KIND,
    summary_context,
    summary_key,
    summary_params,
)
from tandem.revenue.selectors import (
    GRANULARITIES,
    GROUP_FIELDS,
    clv_settings,
    stored_clv,
    stored_cohorts,
    summary_options_check,
)

VIEW = "accounts.view_account"


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _summary_request(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The page's options from the query (defaults for what is missing or unreadable), and the
    computation's parameters, or None with ``error`` set when the options are refused."""
    today = timezone.localdate()
    end = _date(request.GET.get("to") or request.POST.get("to"), today)
    start = _date(request.GET.get("from") or request.POST.get("from"), dt.date(end.year - 1, end.month, 1))
    by = request.GET.get("by") or request.POST.get("by") or DEFAULT_BY
    granularity = request.GET.get("granularity") or request.POST.get("granularity") or DEFAULT_GRANULARITY
    context: dict[str, Any] = {
        "start": start,
        "end": end,
        "by": by,
        "granularity": granularity,
        "group_fields": GROUP_FIELDS,
        "granularities": GRANULARITIES,
    }
    grouping = by if by in GROUP_FIELDS else None
    try:
        summary_options_check(start=start, end=end, by=grouping, granularity=granularity)
    except DomainError as exc:
        context["error"] = str(exc)
        return context, None
    return context, summary_params(start=start, end=end, by=grouping, granularity=granularity, today=today)


@login_required
@permission_required(VIEW, raise_exception=True)
def revenue_page(request: HttpRequest) -> HttpResponse:
    """The stored summary for these options and today, or its computation on a worker with progress."""
    ensure_company_figures(request.user)
    context, params = _summary_request(request)
    if params is None:
        return render(request, "revenue/revenue.html", context, status=400)
    key = summary_key(params)
    row = Computation.objects.filter(key=key, status=JobStatus.DONE).first()
    if row is None:  # not the daily default, or before today's run: a worker computes it
        row = computation_start(kind=SUMMARY_KIND, params=params, requested_by=None, key=key)
    context["computation"] = row
    if row.status == JobStatus.DONE:
        context |= summary_context(row)
    return render(request, "revenue/revenue.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def revenue_recompute(request: HttpRequest) -> HttpResponse:
    """Compute today's summary for these options again (after a contract changed since it was computed)."""
    ensure_company_figures(request.user)
    context, params = _summary_request(request)
    if params is None:
        return render(request, "revenue/revenue.html", context, status=400)
    key = summary_key(params)
    Computation.objects.filter(key=key, status__in=[JobStatus.DONE, JobStatus.FAILED]).delete()
    computation_start(kind=SUMMARY_KIND, params=params, requested_by=None, key=key)
    query = urlencode(
        {"from": params["start"], "to": params["end"], "by": params["by"] or "", "granularity": params["granularity"]}
    )
    return redirect(f"{reverse('revenue:summary')}?{query}")


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
