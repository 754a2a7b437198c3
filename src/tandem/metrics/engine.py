"""Metric definitions compiled to ibis expressions: one backend-neutral query per as-of date.

The same expression runs on DuckDB (the default, over the event store), PostgreSQL and Spark.
Point-in-time rule: a metric at date D (meaning the start of day D, UTC) reads only rows stamped
before D: events with ``ts < D``, terms started on or before D, tickets opened before D, and so on.

All usage metrics come out of ONE aggregation over the events of the longest window, with a
FILTER per metric, so 20 metrics cost one scan rather than twenty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

DAY = 86400
EVENT_KINDS = frozenset({"event_count", "distinct_users", "property_sum", "active_days"})
KINDS = EVENT_KINDS | {
    "ratio",
    "per_seat",
    "change",
    "tenure_days",
    "mrr",
    "seats",
    "open_tickets",
    "ticket_rate",
    "days_since_interaction",
}


class MetricDefinitionError(ValueError):
    """A metric definition refers to something that does not exist or cannot be computed."""


@dataclass(frozen=True)
class MetricSpec:
    """What the engine needs of a metric definition (the Django model converts to this)."""

    key: str
    kind: str
    events: tuple[str, ...] = ()
    window_days: int = 28
    property: str = ""
    numerator: str = ""
    denominator: str = ""
    base: str = ""
    higher_is_better: bool = True


@dataclass
class Sources:
    """The ibis tables metrics read, all on one backend; timestamps are UTC.

    events: account_id, user_id, contact_id, event, ts, quantity, properties
    terms: account_id, start_ts, end_ts (null = evergreen), seats, mrr (reporting currency)
    tickets: account_id, opened_at, closed_at
    interactions: account_id, occurred_at
    """

    events: ir.Table
    terms: ir.Table
    tickets: ir.Table
    interactions: ir.Table
    extra: dict[str, ir.Table] = field(default_factory=dict)


def _ts(day: dt.date) -> ir.TimestampScalar:
    return ibis.literal(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), type="timestamp('UTC')")


def _epoch(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def validate_specs(specs: Sequence[MetricSpec]) -> list[MetricSpec]:
    """Check references and order the specs so that every metric follows those it is built on."""
    by_key = {s.key: s for s in specs}
    for spec in specs:
        if spec.kind not in KINDS:
            raise MetricDefinitionError(f"{spec.key}: unknown kind '{spec.kind}'")
        refs = _refs(spec)
        for ref in refs:
            if ref not in by_key:
                raise MetricDefinitionError(f"{spec.key}: refers to unknown metric '{ref}'")
        if spec.kind == "change" and by_key[spec.base].kind not in EVENT_KINDS:
            raise MetricDefinitionError(f"{spec.key}: a change metric needs a usage-event base metric")
        if spec.kind == "property_sum" and not spec.property:
            raise MetricDefinitionError(f"{spec.key}: a property sum needs a property")
    ordered: list[MetricSpec] = []
    done: set[str] = set()

    def visit(spec: MetricSpec, path: tuple[str, ...]) -> None:
        if spec.key in done:
            return
        if spec.key in path:
            raise MetricDefinitionError(f"{spec.key}: circular reference {' -> '.join((*path, spec.key))}")
        for ref in _refs(spec):
            visit(by_key[ref], (*path, spec.key))
        done.add(spec.key)
        ordered.append(spec)

    for spec in specs:
        visit(spec, ())
    return ordered


def _refs(spec: MetricSpec) -> list[str]:
    if spec.kind == "ratio":
        if not (spec.numerator and spec.denominator):
            raise MetricDefinitionError(f"{spec.key}: a ratio needs a numerator and a denominator")
        return [spec.numerator, spec.denominator]
    if spec.kind in ("per_seat", "change"):
        if not spec.base:
            raise MetricDefinitionError(f"{spec.key}: needs a base metric")
        return [spec.base]
    return []


def _event_aggregate(
    events: ir.Table, spec: MetricSpec, *, end_epoch: int, start_epoch: int, suffix: str = ""
) -> tuple[str, ir.Value]:
    """The FILTERed aggregate of one usage metric over [start, end) (epoch seconds)."""
    in_window = (events._epoch >= start_epoch) & (events._epoch < end_epoch)
    if spec.events:
        in_window = in_window & events.event.isin(list(spec.events))
    name = f"{spec.key}{suffix}"
    if spec.kind == "event_count":
        return name, events.count(where=in_window)
    if spec.kind == "distinct_users":
        return name, events._user.nunique(where=in_window)
    if spec.kind == "active_days":
        return name, events._day.nunique(where=in_window)
    # property_sum
    if spec.property == "quantity":
        value = events.quantity
    else:
        value = events.properties.cast("json")[spec.property].cast("float64")
    return name, value.sum(where=in_window)


def compute_metrics(sources: Sources, specs: Sequence[MetricSpec], *, as_of: dt.date) -> ir.Table:
    """One row per account that is a customer on ``as_of`` (a term active that day), one column per metric."""
    specs = validate_specs(specs)
    by_key = {s.key: s for s in specs}
    end = _epoch(as_of)
    d_ts = _ts(as_of)

    # Customers on D: a term started on or before D that has not ended by D.
    terms = sources.terms
    active = terms.filter(terms.start_ts <= d_ts, terms.end_ts.isnull() | (terms.end_ts > d_ts))
    base = active.group_by("account_id").aggregate(
        _mrr=active.mrr.sum().cast("float64"), _seats=active.seats.sum().cast("float64")
    )
    first = terms.filter(terms.start_ts <= d_ts).group_by("account_id").aggregate(_first=terms.start_ts.min())
    base = base.join(first, "account_id")

    # Usage: one pass over the events of the longest window (twice that when a change metric needs it).
    event_specs = [s for s in specs if s.kind in EVENT_KINDS]
    change_bases = {by_key[s.base].key for s in specs if s.kind == "change"}
    if event_specs:
        span = max(s.window_days * (2 if s.key in change_bases else 1) for s in event_specs)
        ev = sources.events
        ev = ev.filter(ev.ts >= _ts(as_of - dt.timedelta(days=span)), ev.ts < d_ts)
        ev = ev.mutate(
            _epoch=ev.ts.epoch_seconds().cast("int64"),
            _user=ibis.coalesce(ev.user_id, ev.contact_id.cast("string")),
        )
        ev = ev.mutate(_day=((end - ev._epoch) // DAY).cast("int64"))
        aggs: dict[str, ir.Value] = {}
        for spec in event_specs:
            start = end - spec.window_days * DAY
            name, agg = _event_aggregate(ev, spec, end_epoch=end, start_epoch=start)
            aggs[name] = agg
            if spec.key in change_bases:
                name, agg = _event_aggregate(
                    ev, spec, end_epoch=start, start_epoch=start - spec.window_days * DAY, suffix="__prev"
                )
                aggs[name] = agg
        usage = ev.group_by("account_id").aggregate(**aggs)
        base = base.left_join(usage, "account_id").drop("account_id_right")

    # Support and timeline.
    if any(s.kind in ("open_tickets", "ticket_rate") for s in specs):
        tk = sources.tickets
        tk = tk.filter(tk.opened_at < d_ts)
        ticket_aggs: dict[str, ir.Value] = {
            "_open_tickets": tk.count(where=tk.closed_at.isnull() | (tk.closed_at >= d_ts)),
        }
        for spec in specs:
            if spec.kind == "ticket_rate":
                since = _ts(as_of - dt.timedelta(days=spec.window_days))
                ticket_aggs[f"_tickets_{spec.key}"] = tk.count(where=tk.opened_at >= since)
        tickets = tk.group_by("account_id").aggregate(**ticket_aggs)
        base = base.left_join(tickets, "account_id").drop("account_id_right")
    if any(s.kind == "days_since_interaction" for s in specs):
        it = sources.interactions
        it = it.filter(it.occurred_at < d_ts)
        last = it.group_by("account_id").aggregate(_last_touch=it.occurred_at.epoch_seconds().max())
        base = base.left_join(last, "account_id").drop("account_id_right")

    # Per-metric columns, in dependency order so derived metrics can use earlier ones.
    columns: dict[str, ir.Value] = {}
    zero = ibis.literal(0.0)

    def col(key: str) -> ir.FloatingValue:
        return columns[key]

    for spec in specs:
        if spec.kind in EVENT_KINDS:
            value = base[spec.key].cast("float64").fill_null(0.0)
        elif spec.kind == "ratio":
            den = col(spec.denominator)
            value = ibis.ifelse(den == zero, ibis.null("float64"), col(spec.numerator) / den)
        elif spec.kind == "per_seat":
            value = ibis.ifelse(base._seats > zero, col(spec.base) / base._seats, ibis.null("float64"))
        elif spec.kind == "change":
            cur = base[spec.base].cast("float64").fill_null(0.0)
            prev = base[f"{spec.base}__prev"].cast("float64").fill_null(0.0)
            value = ibis.ifelse(prev > zero, (cur - prev) / prev, ibis.null("float64"))
        elif spec.kind == "tenure_days":
            value = ((end - base._first.epoch_seconds()) / DAY).cast("float64")
        elif spec.kind == "mrr":
            value = base._mrr
        elif spec.kind == "seats":
            value = base._seats
        elif spec.kind == "open_tickets":
            value = base._open_tickets.cast("float64").fill_null(0.0)
        elif spec.kind == "ticket_rate":
            value = base[f"_tickets_{spec.key}"].cast("float64").fill_null(0.0) * (30.0 / spec.window_days)
        elif spec.kind == "days_since_interaction":
            value = ((end - base._last_touch) / DAY).cast("float64")
        else:  # pragma: no cover - validate_specs refuses unknown kinds
            raise MetricDefinitionError(spec.kind)
        columns[spec.key] = value.cast("float64")
    return base.select(account_id=base.account_id.cast("int64"), **columns)


def as_of_dates(*, start: dt.date, end: dt.date, every_days: int) -> list[dt.date]:
    """``start``, ``start + every``, ... up to and including ``end``."""
    if every_days < 1:
        raise ValueError("every must be at least one day")
    days: list[dt.date] = []
    day = start
    while day <= end:
        days.append(day)
        day += dt.timedelta(days=every_days)
    return days


def specs_keys(specs: Iterable[MetricSpec]) -> list[str]:
    return [s.key for s in specs]
