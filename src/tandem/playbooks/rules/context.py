"""What every trigger and condition shares: the evaluation context (caching what rules share), the
trigger registry, and ``Unavailable`` for data that is not there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from tandem.health.selectors import HealthSnapshot
from tandem.notifications.messages import Message
from tandem.playbooks.providers import Providers
from tandem.risk.selectors import RiskSnapshot

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


def days_ago(ctx: EvalContext, days: int) -> dt.datetime:
    return dt.datetime.combine(ctx.today - dt.timedelta(days=int(days)), dt.time.min, tzinfo=dt.UTC)
