"""Where health and metrics come from: the health and metrics domains, imported lazily.

Rules must not break when those domains are absent (or in tests), so triggers call them only
through a :class:`Providers` object. ``default_providers()`` imports
``tandem.health.selectors.account_health_current``, ``tandem.metrics.selectors.metric_values`` and
``tandem.risk.selectors.account_risk_current`` (churn risk) when they exist; a missing one is
``None`` and triggers that need it report "not available".
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class HealthSnapshotLike(Protocol):
    score: float
    band: str
    change_7d: float | None
    change_30d: float | None


class HealthSource(Protocol):
    def __call__(self, *, account_ids: Iterable[int] | None = None) -> dict[int, Any]: ...


class RiskSnapshotLike(Protocol):
    probability: float
    reasons: list[str]
    as_of: dt.date


class RiskSource(Protocol):
    def __call__(self, *, account_ids: Iterable[int] | None = None) -> dict[int, Any]: ...


class MetricSource(Protocol):
    def __call__(
        self, *, key: str, as_of: dt.date | None = None, account_ids: Iterable[int] | None = None
    ) -> dict[int, float]: ...


@dataclass(frozen=True)
class Providers:
    health: HealthSource | None = None
    metrics: MetricSource | None = None
    metrics_refresh: Any = None
    risk: RiskSource | None = None


def default_providers() -> Providers:
    health = metrics = refresh = risk = None
    try:
        from tandem.health.selectors import account_health_current

        health = account_health_current
    except ImportError:
        pass
    try:
        from tandem.metrics.selectors import metric_values

        metrics = metric_values
    except ImportError:
        pass
    try:
        from tandem.risk.selectors import account_risk_current

        risk = account_risk_current
    except ImportError:
        pass
    refreshers = []
    for module, name in (
        ("tandem.metrics.services", "metrics_refresh"),
        ("tandem.health.services", "health_refresh"),
        ("tandem.risk.services", "risk_refresh"),
    ):
        try:
            refreshers.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    if refreshers:

        def refresh(*, today: dt.date) -> None:
            for func in refreshers:  # metrics first: health and risk are computed from them
                func(today=today)

    return Providers(health=health, metrics=metrics, metrics_refresh=refresh, risk=risk)
