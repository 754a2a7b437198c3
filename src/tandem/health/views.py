"""Health pages: portfolio, the account section, metrics, the scorecard editor and backtests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import AccessDenied, Action, can, ensure, ensure_model
from tandem.access.shortcuts import ensure_company_figures, get_visible_or_404
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.health import charts
from tandem.health.computations import (
    DEFAULT_HORIZON,
    backtest_context,
    backtest_key,
    backtest_params,
    spec_to_json,
)
from tandem.health.forms import MeasureForm, spec_from_form
from tandem.health.models import Band, HealthScoreCurrent, MissingPolicy, Scorecard, ScoringMethod
from tandem.health.selectors import account_health_trend, account_scores_current, health_portfolio, primary_scorecard
from tandem.health.services import scorecard_spec, scorecard_update
from tandem.jobs.computations import computation_start, progress_fragment
from tandem.jobs.models import Computation, JobStatus


def _hist(scores: QuerySet[Any]) -> list[int]:
    """Accounts per ten points of score (90-100 includes 100), counted in one aggregate query:
    loading every score took most of the page's time at 100,000 accounts."""
    bins = {
        f"b{i}": Count("pk", filter=Q(score__gte=10 * i) & (Q(score__lt=10 * (i + 1)) if i < 9 else Q()))
        for i in range(10)
    }
    counts = scores.order_by().aggregate(**bins)
    return [counts[f"b{i}"] or 0 for i in range(10)]


def _scored(groups: dict[str, list[Any]]) -> dict[str, list[Any]] | None:
    """The ARR-at-risk tables, or None before any account has a churn risk (no empty cards)."""
    return groups if any(groups.values()) else None


def _sees_company_figures(request: AuthenticatedHttpRequest) -> bool:
    try:
        ensure_company_figures(request.user)
    except AccessDenied:
        return False
    return True


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    from tandem.accounts.models import Tier
    from tandem.risk.selectors import account_risk_current  # noqa: F401 - the interface other apps use
    from tandem.risk.services import arr_at_risk, risk_report

    card = primary_scorecard()
    visible = health_portfolio(user=request.user)
    histogram = _hist(visible)
    scored = sum(histogram)
    heat: dict[str, dict[str, int]] = {t: {b: 0 for b in Band.values} for t in Tier.values}
    for tier, band, n in visible.values_list("account__tier", "band").annotate(n=Count("account")):
        heat.setdefault(tier, {b: 0 for b in Band.values})[band] = n
    tiers = dict(Tier.choices)
    # Each cell's share of its tier in tenths: a class (heat-0 ... heat-10 in health.css) sets its
    # shade, as the Content-Security-Policy allows no style attributes.
    heatmap = [
        (
            tiers.get(t, t),
            [(b, row[b], round(10 * row[b] / total) if (total := sum(row.values())) else 0) for b in Band.values],
            sum(row.values()),
        )
        for t, row in heat.items()
    ]
    movers = visible.filter(change_30d__isnull=False).select_related("account")
    context = {
        "card": card,
        "scorecards": Scorecard.objects.filter(is_active=True),
        "count": scored,
        "distribution": charts.distribution_chart(histogram) if scored else None,
        "heatmap": heatmap,
        "bands": Band.choices,
        "fallers": list(movers.order_by("change_30d", "account_id")[:10]),
        "risers": list(movers.order_by("-change_30d", "account_id")[:10]),
        # ARR at risk sums every account's contract: company figures only.
        "arr_at_risk": _scored(arr_at_risk()) if _sees_company_figures(request) else None,
        "report": risk_report(),
    }
    return render(request, "health/portfolio.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """Health scores, history and churn risk of one account (loaded into the account page by htmx)."""
    from tandem.risk.models import AccountRisk

    get_visible_or_404(Account.objects.only("id", "csm_owner_id", "am_owner_id"), user=request.user, pk=account_id)
    scores = account_scores_current(account_id=account_id)
    trend = account_health_trend(account_id=account_id)
    chart = charts.health_history_chart(trend) if len(trend) > 1 else None
    context = {"scores": scores, "risk": AccountRisk.objects.filter(account_id=account_id).first(), "chart": chart}
    return render(request, "health/_account_health.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def metric_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    from tandem.metrics.models import MetricDefinition
    from tandem.metrics.selectors import metric_snapshot_dates

    dates = metric_snapshot_dates()
    context = {
        "metrics": MetricDefinition.objects.order_by("key"),
        "dates": len(dates),
        "first": dates[0] if dates else None,
        "last": dates[-1] if dates else None,
    }
    return render(request, "health/metrics.html", context)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def metric_suggest(request: AuthenticatedHttpRequest) -> HttpResponse:
    from tandem.metrics.models import MetricDefinition
    from tandem.metrics.services import metrics_install_defaults, metrics_suggest

    ensure_model(request.user, Action.CHANGE, MetricDefinition)  # metric definitions are configuration
    metrics_install_defaults(acting_user=request.user)
    added = metrics_suggest(acting_user=request.user)
    messages.success(request, _("Added %(n)d metrics from the event names in the event store.") % {"n": len(added)})
    return redirect("health:metrics")


def _editor_context(card: Scorecard) -> dict:
    return {
        "card": card,
        "measures": list(card.measures.select_related("metric").order_by("group", "id")),
        "methods": ScoringMethod.choices,
        "policies": MissingPolicy.choices,
    }


def scorecard_page(
    request: AuthenticatedHttpRequest,
    card: Scorecard,
    *,
    errors: list | None = None,
    measure_form: MeasureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The scorecard page: its measures (an editor for managers) and the form that adds one."""
    context = _editor_context(card)
    context["errors"] = errors
    if can(request.user, Action.CHANGE, card):
        context["measure_form"] = measure_form or MeasureForm(scorecard=card)
    return render(request, "health/scorecard.html", context, status=status)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def scorecard_edit(request: AuthenticatedHttpRequest, scorecard_id: int) -> HttpResponse:
    card = get_object_or_404(Scorecard, pk=scorecard_id)
    if request.method == "POST":
        ensure(request.user, Action.CHANGE, card)  # scorecards are configuration: managers
        ids = list(card.measures.order_by("group", "id").values_list("pk", flat=True))
        try:
            spec = spec_from_form(scorecard_spec(card), ids, request.POST)
            scorecard_update(acting_user=request.user, scorecard=card, spec=spec)
        except DomainError as exc:
            return scorecard_page(request, card, errors=exc.errors, status=400)
        messages.success(
            request, _("Saved. New scores apply from the latest snapshot on; stored history is unchanged.")
        )
        return redirect("health:scorecard", scorecard_id=card.pk)
    return scorecard_page(request, card)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
@require_POST
def scorecard_preview(request: AuthenticatedHttpRequest, scorecard_id: int) -> HttpResponse:
    """What an edit would do, before saving: band counts now vs edited, and both backtests.

    Scoring and backtesting twice takes seconds, so it runs on a worker; the fragment returned here
    polls its progress and is replaced by the preview when it is done (tandem.jobs.computations).
    """
    card = get_object_or_404(Scorecard, pk=scorecard_id)
    ids = list(card.measures.order_by("group", "id").values_list("pk", flat=True))
    saved = scorecard_spec(card)
    try:
        edited = spec_from_form(saved, ids, request.POST)
    except DomainError as exc:
        return render(request, "health/_preview.html", {"errors": exc.errors})
    row = computation_start(
        kind="health.preview",
        params={"saved": spec_to_json(saved), "edited": spec_to_json(edited)},
        requested_by=request.user,
    )
    return progress_fragment(request, row)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def scorecard_backtest(request: AuthenticatedHttpRequest, scorecard_id: int) -> HttpResponse:
    """The stored daily backtest (default options), or one with other options computed on a worker."""
    card = get_object_or_404(Scorecard, pk=scorecard_id)
    raw_horizon = request.GET.get("horizon", str(DEFAULT_HORIZON))
    horizon = int(raw_horizon) if raw_horizon.isdigit() and int(raw_horizon) > 0 else DEFAULT_HORIZON
    context: dict[str, Any] = {"card": card, "horizon": horizon, "as_of": request.GET.get("as_of", "").strip()}
    through = None
    if context["as_of"]:
        try:
            through = dt.date.fromisoformat(context["as_of"])
        except ValueError:
            context["error"] = _("“Data through” must be a date like 2025-06-30, not “%(value)s”.") % {
                "value": context["as_of"]
            }
        else:
            if through > timezone.localdate():
                context["error"] = _("“Data through” cannot be after today.")
    if "error" in context:
        return render(request, "health/backtest.html", context, status=400)
    today = timezone.localdate()
    spec = scorecard_spec(card)
    key = backtest_key(spec, horizon=horizon, through=through, today=today)
    row = Computation.objects.filter(key=key, status=JobStatus.DONE).first()
    if row is None:
        # Not the stored daily default (other options, an edit since, or before today's run).
        row = computation_start(
            kind="health.backtest",
            params=backtest_params(spec, horizon=horizon, through=through, today=today),
            requested_by=None,
            key=key,
        )
    context["computation"] = row
    if row.status == JobStatus.DONE:
        context |= backtest_context(row)
        context["horizon"] = horizon
    return render(request, "health/backtest.html", context)


__all__ = ["HealthScoreCurrent"]
