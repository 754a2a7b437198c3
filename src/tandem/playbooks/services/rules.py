"""Writes on rules: save (refusing unknown triggers, parameters and conditions by field), preview, and
asking a worker to evaluate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.jobs.services import job_enqueue
from tandem.notifications.messages import as_text
from tandem.playbooks.models import (
    Rule,
)
from tandem.playbooks.providers import Providers, default_providers
from tandem.playbooks.rules import (
    PARAM_RANGES,
    TRIGGERS,
    EvalContext,
    rule_match,
    validate_conditions,
)
from tandem.users.models import User

if TYPE_CHECKING:
    pass


def _validate_rule(data: dict[str, Any]) -> list[FieldError]:
    errors = []
    if data.get("trigger") not in TRIGGERS:
        errors.append(FieldError("trigger", _("Unknown trigger; one of: %(keys)s") % {"keys": ", ".join(TRIGGERS)}))
    elif not isinstance(data.get("params") or {}, dict):
        errors.append(FieldError("params", _("Trigger parameters must be an object.")))
    else:
        params = data.get("params") or {}
        unknown = set(params) - set(TRIGGERS[data["trigger"]].defaults)
        if unknown:
            errors.append(
                FieldError("params", _("Unknown parameters: %(names)s") % {"names": ", ".join(sorted(unknown))})
            )
        for (trigger_key, name), (low, high) in PARAM_RANGES.items():
            if trigger_key != data["trigger"] or name not in params:
                continue
            value = params[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                errors.append(
                    FieldError(
                        "params",
                        _("%(name)s must be a number from %(low)s to %(high)s.")
                        % {"name": name, "low": low, "high": high},
                    )
                )
    errors += [FieldError("conditions", m) for m in validate_conditions(data.get("conditions") or [])]
    return errors


RULE_FIELDS = (
    "name",
    "description",
    "trigger",
    "params",
    "conditions",
    "playbook",
    "cta_type",
    "priority",
    "owner_role",
    "pool",
    "due_in_days",
    "reopen_after_days",
    "is_active",
    "key",
)


@write_service
def rule_save(*, acting_user: User | None, rule: Rule | None = None, **data: Any) -> Rule:
    """Create or update a rule; an unknown trigger, parameter or condition is refused naming the field."""
    from tandem.core.services import model_assign, model_save, model_validate

    rule = rule or Rule()
    merged = {f: getattr(rule, f, None) for f in ("trigger", "params", "conditions")} | data
    errors = _validate_rule(merged)
    data = dict(data)
    if data.get("playbook", rule.playbook_id) is None:  # not "cannot be null": say what to do
        data.pop("playbook", None)
        errors.append(FieldError("playbook", _("Choose the playbook its CTAs run (Settings → Playbook library).")))
    message = _("Invalid rule.")
    try:
        model_assign(rule, data=data, fields=RULE_FIELDS)
    except DomainError as exc:
        raise DomainError(message, [*errors, *exc.errors]) from None
    model_validate(
        rule, message=message, extra_errors=errors, exclude=["playbook"] if rule.playbook_id is None else None
    )
    model_save(rule, message=message)
    return rule


@dataclass
class RulePreview:
    rule_name: str
    count: int
    accounts: list[dict[str, Any]]
    unavailable: str = ""


def rule_preview(
    *,
    trigger: str,
    params: dict[str, Any],
    conditions: list[dict[str, Any]],
    today: dt.date,
    providers: Providers | None = None,
    limit: int = 25,
) -> RulePreview:
    """Which accounts a rule (saved or not) matches now, biggest ARR first."""
    errors = _validate_rule({"trigger": trigger, "params": params, "conditions": conditions})
    if errors:
        raise DomainError(_("Invalid rule."), errors)
    ctx = EvalContext(today=today, providers=providers or default_providers())
    match = rule_match(trigger_key=trigger, params=params, conditions=conditions, ctx=ctx)
    ids = list(match.matches)
    accounts: list[dict[str, Any]] = [
        dict(a)
        for a in Account.objects.filter(pk__in=ids[:20000]).order_by("-arr", "name").values("id", "name", "arr")[:limit]
    ]
    for a in accounts:
        a["reason"] = as_text(match.matches[a["id"]])  # in the language of whoever previews
    return RulePreview("", len(ids), accounts, match.unavailable)


def rules_evaluation_enqueue(*, reason: str = "metrics-refreshed") -> None:
    """Ask a worker to evaluate the rules (e.g. right after a metrics refresh)."""
    job_enqueue(
        name="playbooks.evaluate_rules",
        payload={"day": timezone.localdate().isoformat()},
        key=f"evaluate:{reason}:{timezone.now().isoformat(timespec='minutes')}",
    )
