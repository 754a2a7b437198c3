"""Kept so that ``from tandem.playbooks.triggers import ...`` keeps working.

The rules live in :mod:`tandem.playbooks.rules`.
"""

from tandem.playbooks.rules import (
    CHURN_HISTORY_DAYS,
    CONDITION_FIELDS,
    OPS,
    PARAM_RANGES,
    TRIGGERS,
    EvalContext,
    Matches,
    RuleMatch,
    TriggerSpec,
    Unavailable,
    candidate_ids,
    rule_match,
    trigger,
    validate_conditions,
)

__all__ = [
    "CHURN_HISTORY_DAYS",
    "CONDITION_FIELDS",
    "OPS",
    "PARAM_RANGES",
    "TRIGGERS",
    "EvalContext",
    "Matches",
    "RuleMatch",
    "TriggerSpec",
    "Unavailable",
    "candidate_ids",
    "rule_match",
    "trigger",
    "validate_conditions",
]
