"""Triggers on health scores (provided by the health domain)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy, gettext_noop

from tandem.notifications.messages import Msgid
from tandem.playbooks.rules.context import EvalContext, Matches, trigger

# --- health (provided by the health domain) ---------------------------------------------------


@trigger("health_score_below", gettext_lazy("Health score below a threshold"), threshold=40)
def _health_below(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    limit = float(p["threshold"])
    return {
        aid: Msgid(gettext_noop("Health score %(score)s is below %(limit)s."))
        % {"score": round(s.score), "limit": round(limit)}
        for aid, s in ctx.health().items()
        if s.score is not None and s.score < limit
    }


@trigger("health_band", gettext_lazy("Health band is one of"), bands=["poor"])
def _health_band(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    bands = {str(b).lower() for b in p["bands"]}
    return {
        aid: Msgid(gettext_noop("Health band is %(band)s.")) % {"band": s.band}
        for aid, s in ctx.health().items()
        if str(s.band).lower() in bands
    }


@trigger("health_drop", gettext_lazy("Health score fell by N points in D days (7 or 30)"), points=15, days=30)
def _health_drop(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    points, days = float(p["points"]), int(p["days"])
    attr = "change_7d" if days <= 7 else "change_30d"
    out: Matches = {}
    for aid, s in ctx.health().items():
        change = getattr(s, attr, None)
        if change is not None and change <= -points:
            out[aid] = Msgid(gettext_noop("Health fell %(points)s points in %(days)s days.")) % {
                "points": round(-change),
                "days": days,
            }
    return out
