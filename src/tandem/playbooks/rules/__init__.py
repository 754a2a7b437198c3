"""Rules: which accounts a rule matches right now, and why.

- ``context``: the evaluation context (caches what several rules share) and the trigger registry;
- ``triggers``: the triggers, by family (health, churn risk, metrics and usage, the customer database);
- ``conditions``: conditions on the account, its metrics, health and risk (and a step's branch condition);
- ``evaluation``: trigger then conditions for one rule, and the one priority formula CTAs are ranked by.

Every trigger answers for all candidate accounts at once with a few set-based queries (never a
query per account), so evaluating 50 rules over 100,000 accounts costs a few dozen queries.
"""

from tandem.playbooks.rules.conditions import (
    CONDITION_FIELDS,
    DECIMAL_FIELDS,
    OPS,
    candidate_ids,
    condition_holds,
    validate_conditions,
)
from tandem.playbooks.rules.context import TRIGGERS, EvalContext, Matches, TriggerSpec, Unavailable, trigger
from tandem.playbooks.rules.evaluation import ARR_FLOOR, RISK_WEIGHT, RuleMatch, priority_score, rule_match
from tandem.playbooks.rules.triggers import customer, health, risk, usage
from tandem.playbooks.rules.triggers.risk import CHURN_HISTORY_DAYS, PARAM_RANGES

__all__ = [
    "ARR_FLOOR",
    "CHURN_HISTORY_DAYS",
    "CONDITION_FIELDS",
    "DECIMAL_FIELDS",
    "OPS",
    "PARAM_RANGES",
    "RISK_WEIGHT",
    "TRIGGERS",
    "EvalContext",
    "Matches",
    "RuleMatch",
    "TriggerSpec",
    "Unavailable",
    "candidate_ids",
    "condition_holds",
    "customer",
    "health",
    "priority_score",
    "risk",
    "rule_match",
    "trigger",
    "usage",
    "validate_conditions",
]
