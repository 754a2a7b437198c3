"""Triggers and conditions: which accounts a rule matches right now, and why.

Every trigger answers for all candidate accounts at once with a few set-based queries (never a
query per account), and the :class:`EvalContext` caches what several rules share (health, last
interaction per account, usage windows), so evaluating 50 rules over 100,000 accounts costs a
few dozen queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Count, Max, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tandem.accounts.models import Account, ContactRole, LifecycleStage, StakeholderRole
from tandem.health.selectors import HealthSnapshot
from tandem.notifications.messages import Message, Msgid
from tandem.playbooks.providers import Providers
from tandem.risk.selectors import RiskSnapshot
from tandem.subscriptions.models import ProductKind, SubscriptionItem, SubscriptionStatus
from tandem.success.models import SuccessMilestone
from tandem.support.models import Ticket
from tandem.surveys.models import NpsResponse
from tandem.timeline.models import Interaction

CHUNK = 5000
T = TypeVar("T")


class Unavailable(Exception):
    """The data a trigger or condition needs is not there (e.g. no health module yet)."""


@dataclass
class EvalContext:
    today: dt.date
    providers: Providers
    cache: dict[Any, Any] = field(default_factory=dict)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per key and context (the cache holds whatever each key computes)."""
        if key not in self.cache:
            self.cache[key] = compute()
        result: T = self.cache[key]
        return result

    def health(self) -> Mapping[int, HealthSnapshot]:
        health = self.providers.health
        if health is None:
            raise Unavailable(_("Health data is not available (the health module is not installed)."))
        return self.memo("health", lambda: health(account_ids=None))

    def risk(self) -> Mapping[int, RiskSnapshot]:
        risk = self.providers.risk
        if risk is None:
            raise Unavailable(_("Churn risk is not available (the risk module is not installed)."))
        return self.memo("risk", lambda: risk(account_ids=None))

    def metric(self, key: str) -> dict[int, float]:
        metrics = self.providers.metrics
        if metrics is None:
            raise Unavailable(_("Metric data is not available (the metrics module is not installed)."))
        return self.memo(("metric", key), lambda: metrics(key=key, as_of=self.today, account_ids=None))


# Account id -> why it matched, kept as a Message so it is rendered in each reader's language.
Matches = dict[int, Message]


@dataclass(frozen=True)
class TriggerSpec:
    key: str
    label: Any
    defaults: dict[str, Any]
    func: Callable[[EvalContext, dict[str, Any]], Matches]


TRIGGERS: dict[str, TriggerSpec] = {}


def trigger(key: str, label: Any, **defaults: Any) -> Callable:
    def register(func: Callable[[EvalContext, dict[str, Any]], Matches]) -> Callable:
        TRIGGERS[key] = TriggerSpec(key, label, defaults, func)
        return func

    return register


def _days_ago(ctx: EvalContext, days: int) -> dt.datetime:
    return dt.datetime.combine(ctx.today - dt.timedelta(days=int(days)), dt.time.min, tzinfo=dt.UTC)


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
    """Events per account in the last ``days`` and in the ``days`` before, from the event store."""

    def compute() -> dict[int, tuple[float, float]]:
        from tandem.usage.eventstore import EventStore

        end = dt.datetime.combine(ctx.today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        mid = end - dt.timedelta(days=days)
        start = mid - dt.timedelta(days=days)
        try:
            table = EventStore.for_settings().query_arrow(
                "SELECT account_id, sum(quantity) FILTER (WHERE ts >= ?) AS recent, "
                "sum(quantity) FILTER (WHERE ts < ?) AS before FROM events "
                "WHERE ts >= ? AND ts < ? GROUP BY account_id",
                [mid, mid, start, end],
            )
        except Exception as exc:  # duckdb.IOException when another process holds the store
            raise Unavailable(_("Usage data is not available: %(error)s") % {"error": exc}) from exc
        rows = table.to_pydict()
        return {
            int(a): (float(r or 0), float(b or 0))
            for a, r, b in zip(rows["account_id"], rows["recent"], rows["before"], strict=True)
        }

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
        from tandem.usage.eventstore import EventStore

        end = dt.datetime.combine(ctx.today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        try:
            table = EventStore.for_settings().query_arrow(
                "SELECT account_id, count(DISTINCT coalesce(user_id, CAST(contact_id AS VARCHAR))) AS users "
                "FROM events WHERE ts >= ? AND ts < ? GROUP BY account_id",
                [end - dt.timedelta(days=days), end],
            )
        except Exception as exc:
            raise Unavailable(_("Usage data is not available: %(error)s") % {"error": exc}) from exc
        rows = table.to_pydict()
        return {int(a): int(u) for a, u in zip(rows["account_id"], rows["users"], strict=True)}

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


# --- the customer database -------------------------------------------------------------------


@trigger("renewal_within", gettext_lazy("Renewal in N days"), days=90, min_days=0)
def _renewal_within(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    start = ctx.today + dt.timedelta(days=int(p.get("min_days", 0)))
    end = ctx.today + dt.timedelta(days=int(p["days"]))
    rows = Account.objects.filter(renewal_date__gte=start, renewal_date__lte=end).values_list("id", "renewal_date")
    return {
        aid: Msgid(gettext_noop("Renews on %(date)s (in %(days)s days).")) % {"date": d, "days": (d - ctx.today).days}
        for aid, d in rows
        if d is not None  # always: the range excludes accounts without a renewal date
    }


@trigger("nps_detractor", gettext_lazy("NPS detractor response"), days=30, max_score=6)
def _nps_detractor(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    rows = (
        NpsResponse.objects.filter(responded_at__gte=_days_ago(ctx, p["days"]), score__lte=int(p["max_score"]))
        .values_list("account_id", "score")
        .order_by("account_id", "score")
    )
    out: Matches = {}
    for aid, score in rows:  # the lowest score of each account comes first
        out.setdefault(aid, Msgid(gettext_noop("NPS detractor: scored %(score)s.")) % {"score": score})
    return out


@trigger("milestone_overdue", gettext_lazy("A success milestone is overdue"), grace_days=0)
def _milestone_overdue(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    cutoff = ctx.today - dt.timedelta(days=int(p["grace_days"]))
    rows = (
        SuccessMilestone.objects.filter(completed_at__isnull=True, due_date__lt=cutoff)
        .values_list("account_id", "title", "due_date")
        .order_by("account_id", "-due_date")
    )
    return {
        aid: Msgid(gettext_noop("Milestone “%(title)s” was due %(date)s.")) % {"title": t, "date": d}
        for aid, t, d in rows
    }


@trigger("no_interaction", gettext_lazy("No interaction for N days"), days=45)
def _no_interaction(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    days = int(p["days"])
    last = ctx.memo(
        "last_interaction",
        lambda: dict(
            Interaction.objects.values("account_id").annotate(last=Max("occurred_at")).values_list("account_id", "last")
        ),
    )
    cutoff = _days_ago(ctx, days)
    started = (
        Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .filter(Q(start_date__lte=ctx.today - dt.timedelta(days=days)) | Q(start_date__isnull=True))
        .values_list("id", flat=True)
    )
    out: Matches = {}
    for aid in started:
        when = last.get(aid)
        if when is None:
            out[aid] = Message(gettext_noop("No interaction logged yet."))
        elif when < cutoff:
            out[aid] = Msgid(gettext_noop("No interaction for %(days)s days.")) % {
                "days": (ctx.today - when.date()).days
            }
    return out


@trigger(
    "stakeholder_left",
    gettext_lazy("A champion or executive sponsor left"),
    days=30,
    roles=["champion", "executive_sponsor"],
)
def _stakeholder_left(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    rows = ContactRole.objects.filter(
        role__in=list(p["roles"]),
        contact__still_at_company=False,
        contact__left_on__gte=ctx.today - dt.timedelta(days=int(p["days"])),
    ).values_list("contact__account_id", "contact__first_name", "contact__last_name", "role", "contact__left_on")
    labels = dict(StakeholderRole.choices)  # ContactRole.role's choices
    return {
        aid: Msgid(gettext_noop("%(role)s %(name)s left on %(date)s."))
        % {"role": labels.get(role, role), "name": f"{f} {last}".strip(), "date": left}
        for aid, f, last, role, left in rows
    }


@trigger("new_account", gettext_lazy("New account (onboarding)"), days=14)
def _new_account(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    since = ctx.today - dt.timedelta(days=int(p["days"]))
    rows = Account.objects.filter(start_date__gte=since, start_date__lte=ctx.today).values_list("id", "start_date")
    return {aid: Msgid(gettext_noop("Customer since %(date)s.")) % {"date": d} for aid, d in rows}


@trigger(
    "ticket_volume", gettext_lazy("Ticket volume or an urgent ticket"), count=5, days=30, priority="", open_only=False
)
def _ticket_volume(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    qs = Ticket.objects.filter(opened_at__gte=_days_ago(ctx, p["days"]))
    if p.get("priority"):
        qs = qs.filter(priority=p["priority"])
    if p.get("open_only"):
        from tandem.support.models import OPEN_TICKET_STATUSES

        qs = qs.filter(status__in=OPEN_TICKET_STATUSES)
    rows = qs.values("account_id").annotate(n=Count("id")).filter(n__gte=int(p["count"])).values_list("account_id", "n")
    return {
        aid: Msgid(gettext_noop("%(n)s tickets in %(days)s days.")) % {"n": n, "days": p["days"]} for aid, n in rows
    }


# --- conditions ---------------------------------------------------------------------------------

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}
CONDITION_FIELDS = {
    "tier",
    "lifecycle_stage",
    "country",
    "industry",
    "currency",
    "arr",
    "mrr",
    "csm_owner",
    "am_owner",
    "parent",
}
DECIMAL_FIELDS = {"arr", "mrr"}


def _field_q(cond: dict[str, Any]) -> Q:
    name, op, value = cond["field"], cond.get("op", "eq"), cond.get("value")
    if name in DECIMAL_FIELDS:
        value = [Decimal(str(v)) for v in value] if isinstance(value, list) else Decimal(str(value))
    if name in {"csm_owner", "am_owner", "parent"} and value is None:
        return Q(**{f"{name}__isnull": op == "eq"})
    lookup = {
        "eq": "exact",
        "ne": "exact",
        "lt": "lt",
        "lte": "lte",
        "gt": "gt",
        "gte": "gte",
        "in": "in",
        "not_in": "in",
    }[op]
    q = Q(**{f"{name}__{lookup}": value})
    return ~q if op in {"ne", "not_in"} else q


def validate_conditions(conditions: Any) -> list[str]:
    """Messages for anything wrong with a rule's conditions (empty when fine)."""
    if not isinstance(conditions, list):
        return [_("Conditions must be a list.")]
    problems = []
    for i, cond in enumerate(conditions):
        if not isinstance(cond, dict) or cond.get("op", "eq") not in OPS:
            problems.append(_("Condition %(n)s needs an op among %(ops)s.") % {"n": i + 1, "ops": ", ".join(OPS)})
        elif "field" in cond and cond["field"] not in CONDITION_FIELDS:
            problems.append(_("Condition %(n)s: unknown field %(field)s.") % {"n": i + 1, "field": cond["field"]})
        elif "risk" in cond and cond["risk"] != "probability":
            problems.append(_('Condition %(n)s: churn risk conditions use "risk": "probability".') % {"n": i + 1})
        elif not any(k in cond for k in ("field", "metric", "health", "risk")):
            problems.append(_("Condition %(n)s needs a field, metric, health or risk key.") % {"n": i + 1})
    return problems


def candidate_ids(ctx: EvalContext, conditions: list[dict[str, Any]]) -> set[int]:
    """Accounts meeting every condition; churned accounts only when a condition asks for them."""
    q = Q()
    asks_stage = False
    for cond in conditions:
        if "field" in cond:
            q &= _field_q(cond)
            asks_stage = asks_stage or cond["field"] == "lifecycle_stage"
    if not asks_stage:
        q &= ~Q(lifecycle_stage=LifecycleStage.CHURNED)
    key = ("candidates", repr(sorted(repr(c) for c in conditions if "field" in c)))
    ids: set[int] = ctx.memo(key, lambda: set(Account.objects.filter(q).values_list("id", flat=True)))
    for cond in conditions:
        test = OPS[cond.get("op", "eq")]
        if "metric" in cond:
            values = ctx.metric(cond["metric"])
            ids = {a for a in ids if a in values and test(values[a], cond["value"])}
        elif "health" in cond:
            health = ctx.health()
            attr = cond["health"]
            ids = {a for a in ids if a in health and test(getattr(health[a], attr), cond["value"])}
        elif "risk" in cond:
            risk = ctx.risk()
            ids = {a for a in ids if a in risk and test(risk[a].probability, cond["value"])}
    return ids


@dataclass
class RuleMatch:
    matches: Matches
    unavailable: str = ""


def rule_match(
    *, trigger_key: str, params: dict[str, Any], conditions: list[dict[str, Any]], ctx: EvalContext
) -> RuleMatch:
    """Accounts the trigger fires on right now, restricted to those meeting the conditions."""
    spec = TRIGGERS[trigger_key]
    merged = {**spec.defaults, **(params or {})}
    try:
        fired = ctx.memo(("trigger", trigger_key, repr(sorted(merged.items()))), lambda: spec.func(ctx, merged))
        allowed = candidate_ids(ctx, conditions or [])
    except Unavailable as exc:
        return RuleMatch({}, str(exc))
    return RuleMatch({aid: why for aid, why in fired.items() if aid in allowed})
