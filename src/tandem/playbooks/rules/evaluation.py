"""Which accounts a rule matches now (trigger, then conditions), and the one priority formula."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tandem.playbooks.models import CtaPriority
from tandem.playbooks.rules.conditions import candidate_ids
from tandem.playbooks.rules.context import TRIGGERS, EvalContext, Matches, Unavailable

RISK_WEIGHT = {CtaPriority.LOW: 0.25, CtaPriority.MEDIUM: 0.5, CtaPriority.HIGH: 0.75, CtaPriority.CRITICAL: 1.0}
ARR_FLOOR = 1000.0  # so accounts without revenue yet (onboarding) still rank


def priority_score(*, arr: float, priority: int, health_score: float | None) -> float:
    """ARR at stake * risk: ``max(ARR, 1000) * priority weight * (1.5 - health/100)`` (health 50 when unknown)."""
    health = 50.0 if health_score is None else max(0.0, min(100.0, float(health_score)))
    return round(max(float(arr), ARR_FLOOR) * RISK_WEIGHT[CtaPriority(priority)] * (1.5 - health / 100), 2)


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
