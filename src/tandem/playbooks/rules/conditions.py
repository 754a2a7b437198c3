"""Rule conditions: which accounts a rule may fire on (fields of the account, metrics, health, risk),
and the branch condition of a playbook step."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from tandem.accounts.models import Account, LifecycleStage, live_account_q
from tandem.playbooks.rules.context import EvalContext

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
    if name in {"csm_owner", "am_owner", "parent"} and isinstance(value, list) and None in value:
        # "is one of: nobody, Ana": SQL's IN never matches NULL, so "nobody" is its own test.
        either = Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__in": [v for v in value if v is not None]})
        return ~either if op == "not_in" else either
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


_LOOKUPS = {
    "eq": "exact",
    "ne": "exact",
    "lt": "lt",
    "lte": "lte",
    "gt": "gt",
    "gte": "gte",
    "in": "in",
    "not_in": "in",
}


def _trait_q(cond: dict[str, Any]) -> Q:
    """A custom field (``Account.traits``): a missing value is "not equal" and "none of", never equal."""
    key, op, value = cond["trait"], cond.get("op", "eq"), cond.get("value")
    q = Q(**{f"traits__{key}__{_LOOKUPS[op]}": value})
    if op in {"ne", "not_in"}:
        return ~q | ~Q(traits__has_key=key)
    return q


def _segment_q(cond: dict[str, Any]) -> Q:
    from tandem.segments.models import SegmentMembership

    value = cond.get("value", cond.get("segment"))
    ids = [int(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
    members = SegmentMembership.objects.filter(segment_id__in=ids, left_on__isnull=True).values("account_id")
    q = Q(pk__in=members)
    return ~q if cond.get("op", "in") in {"ne", "not_in"} else q


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
        elif "trait" in cond and cond["trait"] not in _account_trait_keys():
            problems.append(
                _("Condition %(n)s: no custom field %(key)s on accounts.") % {"n": i + 1, "key": cond["trait"]}
            )
        elif "segment" in cond and cond.get("op", "in") not in {"in", "not_in", "eq", "ne"}:
            problems.append(_("Condition %(n)s: a segment condition is “in” or “not_in”.") % {"n": i + 1})
        elif "risk" in cond and cond["risk"] != "probability":
            problems.append(_('Condition %(n)s: churn risk conditions use "risk": "probability".') % {"n": i + 1})
        elif not any(k in cond for k in ("field", "trait", "segment", "metric", "health", "risk")):
            problems.append(
                _("Condition %(n)s needs a field, trait, segment, metric, health or risk key.") % {"n": i + 1}
            )
    return problems


def _account_trait_keys() -> set[str]:
    from tandem.traits.models import TraitDefinition, TraitEntity

    return set(TraitDefinition.objects.filter(entity=TraitEntity.ACCOUNT).values_list("key", flat=True))


def candidate_ids(ctx: EvalContext, conditions: list[dict[str, Any]]) -> set[int]:
    """Accounts meeting every condition; churned accounts only when a condition asks for them, and
    never archived ones (they are no longer worked: no rule opens a CTA on them)."""
    q = live_account_q("")
    asks_stage = False
    for cond in conditions:
        if "field" in cond:
            q &= _field_q(cond)
            asks_stage = asks_stage or cond["field"] == "lifecycle_stage"
        elif "trait" in cond:
            q &= _trait_q(cond)
        elif "segment" in cond:
            q &= _segment_q(cond)
    if not asks_stage:
        q &= ~Q(lifecycle_stage=LifecycleStage.CHURNED)
    key = ("candidates", repr(sorted(repr(c) for c in conditions if {"field", "trait", "segment"} & set(c))))
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


def condition_holds(condition: dict[str, Any], account: dict[str, Any]) -> bool:
    if not condition:
        return True
    value = account.get(condition.get("field", ""))
    if condition.get("field") in {"arr"}:
        value = float(value or 0)
    return OPS[condition.get("op", "eq")](value, condition.get("value"))
