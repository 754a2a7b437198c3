"""Where triggers read health, metrics and churn risk: the selectors of those domains.

Every app is installed, so ``default_providers()`` simply hands the real selectors
(``tandem.health.selectors.account_health_current``, ``tandem.metrics.selectors.metric_values``,
``tandem.risk.selectors.account_risk_current``) to the triggers. :class:`Providers` stays an
injectable seam so tests can pass a double with the same signature; a field left ``None`` there makes
the triggers that need it report "not available" instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from tandem.health.selectors import HealthSnapshot, account_health_current
from tandem.metrics.selectors import metric_values
from tandem.risk.selectors import RiskSnapshot, account_risk_current


class HealthSource(Protocol):
    def __call__(self, *, account_ids: Iterable[int] | None = None) -> Mapping[int, HealthSnapshot]: ...


class RiskSource(Protocol):
    def __call__(self, *, account_ids: Iterable[int] | None = None) -> Mapping[int, RiskSnapshot]: ...


class MetricSource(Protocol):
    def __call__(
        self, *, key: str, as_of: dt.date | None = None, account_ids: Iterable[int] | None = None
    ) -> dict[int, float]: ...


@dataclass(frozen=True)
class Providers:
    health: HealthSource | None = None
    metrics: MetricSource | None = None
    risk: RiskSource | None = None


def default_providers() -> Providers:
    """The real health, metrics and churn-risk selectors."""
    return Providers(health=account_health_current, metrics=metric_values, risk=account_risk_current)
