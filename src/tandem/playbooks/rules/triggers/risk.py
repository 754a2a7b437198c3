"""Triggers on churn risk (provided by the risk domain), and the risk history they compare with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tandem.notifications.messages import Message, Msgid
from tandem.playbooks.rules.context import EvalContext, Matches, Unavailable, trigger

# --- churn risk (provided by the risk domain) -------------------------------------------------

CHURN_HISTORY_DAYS = 180  # churn-risk samples kept for the rise trigger (its ``days`` is at most half this)
# Numeric trigger parameters with their allowed range, checked when a rule is saved or previewed.
PARAM_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("churn_risk_above", "percent"): (0, 100),
    ("churn_risk_rise", "points"): (1, 100),
    ("churn_risk_rise", "days"): (1, CHURN_HISTORY_DAYS // 2),
}


def _percent(probability: float) -> int:
    return round(100 * probability)


def _risk_driver(snapshot: Any) -> Message | str:
    """The main reason as a message, so the CTA shows it in each reader's language."""
    reasons = [r for r in (getattr(snapshot, "reasons", None) or []) if r]
    return reasons[0] if reasons else ""


@trigger("churn_risk_above", gettext_lazy("Churn risk above X percent"), percent=50)
def _churn_risk_above(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    limit = float(p["percent"])
    out: Matches = {}
    for aid, s in ctx.risk().items():
        if s.probability is None or 100 * s.probability <= limit:
            continue
        params = {"risk": _percent(s.probability), "limit": round(limit)}
        if driver := _risk_driver(s):
            out[aid] = Msgid(gettext_noop("Churn risk is %(risk)s%% (above %(limit)s%%). Main driver: %(driver)s.")) % {
                **params,
                "driver": driver,
            }
        else:
            out[aid] = Msgid(gettext_noop("Churn risk is %(risk)s%% (above %(limit)s%%).")) % params
    return out


@trigger("churn_risk_rise", gettext_lazy("Churn risk rose by N points in D days"), points=15, days=30)
def _churn_risk_rise(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    """Now against the last sample scored at least ``days`` ago (looking back at most ``days`` further)."""
    from tandem.playbooks.models import ChurnRiskSample

    points, days = float(p["points"]), int(p["days"])
    current = ctx.risk()
    cutoff = ctx.today - dt.timedelta(days=days)
    rows = (
        ChurnRiskSample.objects.filter(as_of__lte=cutoff, as_of__gt=cutoff - dt.timedelta(days=days))
        .order_by("as_of")
        .values_list("account_id", "probability", "as_of")
    )
    before: dict[int, tuple[float, dt.date]] = {}
    for aid, probability, as_of in rows:  # oldest first: the latest sample on or before the cutoff wins
        before[aid] = (probability, as_of)
    if not before and current:
        raise Unavailable(
            _("No churn-risk history from %(days)s days ago yet: rule evaluations record it daily.") % {"days": days}
        )
    out: Matches = {}
    for aid, snapshot in current.items():
        was = before.get(aid)
        if was is None or snapshot.probability is None:
            continue
        rise = 100 * (snapshot.probability - was[0])
        if rise >= points:
            out[aid] = Msgid(
                gettext_noop("Churn risk rose %(points)s points, from %(was)s%% on %(date)s to %(now)s%%.")
            ) % {
                "points": round(rise),
                "was": _percent(was[0]),
                "date": was[1],
                "now": _percent(snapshot.probability),
            }
    return out
