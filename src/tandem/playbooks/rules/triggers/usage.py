"""Triggers on metrics (the metrics domain) and usage (aggregates from the usage app's selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tandem.notifications.messages import Msgid
from tandem.playbooks.rules.conditions import OPS
from tandem.playbooks.rules.context import EvalContext, Matches, Unavailable, trigger
from tandem.subscriptions.models import ProductKind, SubscriptionItem, SubscriptionStatus
from tandem.usage.selectors import UsageUnavailable, active_users_by_account, usage_windows

# --- metrics (provided by the metrics domain) and usage (the event store) ---------------------


@trigger("metric_threshold", gettext_lazy("A metric crosses a threshold"), metric="", op="lt", value=0)
def _metric_threshold(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    values = ctx.metric(str(p["metric"]))
    test = OPS[p["op"]]
    return {
        aid: Msgid(gettext_noop("%(metric)s is %(value)s.")) % {"metric": p["metric"], "value": round(v, 2)}
        for aid, v in values.items()
        if v is not None and test(v, float(p["value"]))
    }


def _usage_windows(ctx: EvalContext, days: int) -> dict[int, tuple[float, float]]:
    """Events per account in the last ``days`` and in the ``days`` before (the usage app's selector)."""

    def compute() -> dict[int, tuple[float, float]]:
        try:
            return usage_windows(today=ctx.today, days=days)
        except UsageUnavailable as exc:
            raise Unavailable(_("Usage data is not available: %(error)s") % {"error": exc}) from exc

    return ctx.memo(("usage", days), compute)


@trigger(
    "usage_drop",
    gettext_lazy("Usage dropped by X% (last D days against the D before)"),
    percent=30,
    days=30,
    min_events=50,
)
def _usage_drop(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    if p.get("metric") and ctx.providers.metrics is not None:
        values = ctx.metric(str(p["metric"]))  # a precomputed % change from the metrics domain
        return {
            a: Msgid(gettext_noop("Usage down %(pct)s%%.")) % {"pct": round(-v)}
            for a, v in values.items()
            if v <= -float(p["percent"])
        }
    percent, days, floor = float(p["percent"]), int(p["days"]), float(p["min_events"])
    out: Matches = {}
    for aid, (recent, before) in _usage_windows(ctx, days).items():
        if before >= floor and recent <= before * (1 - percent / 100):
            drop = round(100 * (1 - recent / before))
            out[aid] = Msgid(
                gettext_noop("Usage down %(pct)s%% over %(days)s days (%(recent)s events, was %(before)s).")
            ) % {
                "pct": drop,
                "days": days,
                "recent": int(recent),
                "before": int(before),
            }
    return out


def _seats(ctx: EvalContext) -> dict[int, float]:
    def compute() -> dict[int, float]:
        today = ctx.today
        rows = (
            SubscriptionItem.objects.filter(
                product__kind=ProductKind.PLAN,
                subscription__status=SubscriptionStatus.ACTIVE,
                subscription__start_date__lte=today,
            )
            .filter(Q(subscription__end_date__isnull=True) | Q(subscription__end_date__gte=today))
            .values("subscription__account_id")
            .annotate(seats=Sum("quantity"))
        )
        return {r["subscription__account_id"]: float(r["seats"]) for r in rows}

    return ctx.memo("seats", compute)


def _active_users(ctx: EvalContext, days: int) -> dict[int, int]:
    def compute() -> dict[int, int]:
        try:
            return active_users_by_account(today=ctx.today, days=days)
        except UsageUnavailable as exc:
            raise Unavailable(_("Usage data is not available: %(error)s") % {"error": exc}) from exc

    return ctx.memo(("active_users", days), compute)


@trigger("seat_utilisation", gettext_lazy("Seat utilisation above a threshold (expansion)"), threshold=0.9, days=30)
def _seat_utilisation(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    threshold = float(p["threshold"])
    seats = _seats(ctx)
    out: Matches = {}
    for aid, users in _active_users(ctx, int(p["days"])).items():
        n = seats.get(aid, 0)
        if n > 0 and users / n >= threshold:
            out[aid] = Msgid(gettext_noop("%(users)s active users on %(seats)s seats (%(pct)s%%).")) % {
                "users": users,
                "seats": int(n),
                "pct": round(100 * users / n),
            }
    return out
