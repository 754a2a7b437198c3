"""The rule editor's form-based builder: trigger parameters and condition rows, to and from the rule's JSON.

Rows are plain Django forms rendered on the server; "add a condition", "remove" and changing a
row's subject or the trigger post the form to the builder view, which renders the builder again
with the new rows (htmx swaps it in; without JavaScript the whole page comes back). Nothing is
saved until "Save rule". The API keeps taking the JSON the builder produces.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tandem.accounts.models import Account, LifecycleStage, StakeholderRole, Tier
from tandem.health.models import Band
from tandem.metrics.models import MetricDefinition
from tandem.playbooks.rules import TRIGGERS
from tandem.support.models import TicketPriority
from tandem.users.models import User

OP_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "in": _("is one of"),
    "not_in": _("is none of"),
}
NUMBER_OPS = ["eq", "ne", "lt", "lte", "gt", "gte"]
CHOICE_OPS = ["eq", "ne", "in", "not_in"]
MAX_CONDITIONS = 20

# Account fields a condition row offers: label and kind ("choice", "number", "user", "account").
ACCOUNT_SUBJECTS: dict[str, tuple[Any, str]] = {
    "tier": (_("Tier"), "choice"),
    "lifecycle_stage": (_("Lifecycle stage"), "choice"),
    "country": (_("Country"), "choice"),
    "industry": (_("Industry"), "choice"),
    "currency": (_("Currency"), "choice"),
    "arr": (_("ARR"), "number"),
    "mrr": (_("MRR"), "number"),
    "csm_owner": (_("CSM"), "user"),
    "am_owner": (_("Account manager"), "user"),
    "parent": (_("Parent account"), "account"),
}
MAX_PARENT_CHOICES = 500
ID_FIELDS = {"csm_owner", "am_owner", "parent"}  # values are ids (None: nobody / no parent)
PARAM_LABELS = {
    "threshold": _("Threshold"),
    "bands": _("Bands"),
    "points": _("Points"),
    "days": _("Days"),
    "percent": _("Percent"),
    "metric": _("Metric"),
    "op": _("Comparison"),
    "value": _("Value"),
    "min_events": _("At least this many events before"),
    "min_days": _("At least this many days away"),
    "max_score": _("Highest score"),
    "grace_days": _("Days of grace"),
    "roles": _("Roles"),
    "count": _("Tickets"),
    "priority": _("Ticket priority"),
    "open_only": _("Open tickets only"),
}


def htmx_refresh() -> dict[str, str]:
    """Attributes that render the builder again when a select changes."""
    from django.urls import reverse

    return {
        "hx-post": reverse("playbooks:rule_builder"),
        "hx-trigger": "change",
        "hx-target": "#rule-builder",
        "hx-swap": "outerHTML",
        "hx-include": "#rule-form",
    }


def _metric_choices() -> list[tuple[str, str]]:
    return [(m.key, m.name or m.key) for m in MetricDefinition.objects.filter(is_active=True).order_by("key")]


def _account_traits() -> dict[str, Any]:
    from tandem.traits.models import TraitKind
    from tandem.traits.selectors import trait_definitions

    # Dates are left to the API's JSON conditions: the builder's values are numbers or lists.
    return {k: t for k, t in trait_definitions(entity="account").items() if t.kind != TraitKind.DATE}


def subject_choices(*, segments: bool = True) -> list[tuple[str, Any]]:
    """What a condition row can test; ``segments=False`` in a segment's own conditions (no nesting)."""
    from tandem.segments.models import Segment

    choices: list[tuple[str, Any]] = [(f"field:{k}", label) for k, (label, _kind) in ACCOUNT_SUBJECTS.items()]
    if segments and Segment.objects.exists():
        choices.append(("segment:any", _("Segment")))
    choices += [("health:score", _("Health score")), ("risk:probability", _("Churn risk (%)"))]
    traits = [(f"trait:{key}", t.label) for key, t in _account_traits().items()]
    if traits:
        choices.append((str(_("Custom fields")), traits))
    metrics = [(f"metric:{key}", name) for key, name in _metric_choices()]
    if metrics:
        choices.append((str(_("Metrics")), metrics))
    return choices


def _distinct(field: str) -> list[tuple[str, str]]:
    values = Account.objects.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()[:500]
    return [(str(v), str(v)) for v in values]


def value_choices(subject: str) -> list[tuple[str, Any]] | None:
    """The values a row offers for a subject, or None when the value is a number."""
    kind, _sep, name = subject.partition(":")
    if kind == "segment":
        from tandem.segments.models import Segment

        return [(str(seg.pk), seg.name) for seg in Segment.objects.order_by("name")]
    if kind == "trait":
        from tandem.traits.models import TraitKind

        trait = _account_traits().get(name)
        if trait is None or trait.kind == TraitKind.NUMBER:
            return None
        if trait.kind == TraitKind.BOOLEAN:
            return [("true", _("yes")), ("false", _("no"))]
        if trait.kind == TraitKind.CHOICE:
            return [(str(c), str(c)) for c in trait.choices]
        values = (
            Account.objects.filter(traits__has_key=name)
            .values_list(f"traits__{name}", flat=True)
            .distinct()
            .order_by(f"traits__{name}")[:500]
        )
        return [(str(v), str(v)) for v in values if v not in (None, "")]
    if kind != "field":
        return None
    if name == "tier":
        return list(Tier.choices)
    if name == "lifecycle_stage":
        return list(LifecycleStage.choices)
    if name in ("country", "industry", "currency"):
        return _distinct(name)
    if name in ("csm_owner", "am_owner"):
        return [("", _("nobody"))] + [
            (str(u.pk), str(u)) for u in User.objects.filter(is_active=True).order_by("username")
        ]
    if name == "parent":
        # The accounts that are a parent already (a group's head office), not every account.
        parents = Account.objects.filter(children__isnull=False).distinct().order_by("name")[:MAX_PARENT_CHOICES]
        return [("", _("none (a top-level account)"))] + [(str(a.pk), a.name) for a in parents]
    return None


class ConditionRow(forms.Form):
    subject = forms.ChoiceField(label=_("Field"), choices=[])
    op = forms.ChoiceField(label=_("Comparison"), choices=[])
    value = forms.CharField(label=_("Value"), required=False)

    def __init__(
        self, *args: Any, subject: str, refresh: dict[str, str] | None = None, segments: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subject_choices(segments=segments)  # type: ignore[attr-defined]
        self.fields["subject"].widget.attrs.update(refresh or htmx_refresh())
        choices = value_choices(subject)
        ops = ["in", "not_in"] if subject.startswith("segment:") else CHOICE_OPS if choices is not None else NUMBER_OPS
        self.fields["op"].choices = [(o, OP_LABELS[o]) for o in ops]  # type: ignore[attr-defined]
        self.is_number = choices is None
        if choices is None:
            self.fields["value"] = forms.FloatField(label=_("Value"))
        else:
            self.fields["value"] = forms.MultipleChoiceField(
                label=_("Value"), choices=choices, widget=forms.SelectMultiple(attrs={"size": 4})
            )


def condition_to_row(cond: dict[str, Any]) -> dict[str, Any] | None:
    """A stored condition as a row's values, or None when the builder cannot show it."""
    op = cond.get("op", "eq")
    value = cond.get("value")
    if "field" in cond and cond["field"] in ACCOUNT_SUBJECTS:
        subject = f"field:{cond['field']}"
        if value_choices(subject) is not None:
            values = value if isinstance(value, list) else [value]
            return {"subject": subject, "op": op, "value": ["" if v is None else str(v) for v in values]}
        return {"subject": subject, "op": op, "value": value}
    if "segment" in cond:
        values = value if isinstance(value, list) else [value]
        return {
            "subject": "segment:any",
            "op": op if op in ("in", "not_in") else "in",
            "value": [str(v) for v in values],
        }
    if "trait" in cond:
        subject = f"trait:{cond['trait']}"
        if value_choices(subject) is not None:
            values = value if isinstance(value, list) else [value]
            return {
                "subject": subject,
                "op": op,
                "value": [str(v).lower() if isinstance(v, bool) else str(v) for v in values],
            }
        return {"subject": subject, "op": op, "value": value}
    if "health" in cond and cond["health"] == "score":
        return {"subject": "health:score", "op": op, "value": value}
    if cond.get("risk") == "probability":
        return {"subject": "risk:probability", "op": op, "value": round(100 * float(value or 0), 2)}
    if "metric" in cond:
        return {"subject": f"metric:{cond['metric']}", "op": op, "value": value}
    return None


def row_to_condition(row: dict[str, Any]) -> dict[str, Any]:
    kind, _sep, name = row["subject"].partition(":")
    op, value = row["op"], row["value"]
    if kind == "field":
        if isinstance(value, list):
            values: list[Any] = [int(v) if name in ID_FIELDS and v else v or None for v in value]
            if op in ("eq", "ne"):
                return {"field": name, "op": op, "value": values[0] if values else None}
            return {"field": name, "op": op, "value": values}
        return {"field": name, "op": op, "value": value}
    if kind == "segment":
        values = [int(v) for v in (value if isinstance(value, list) else [value]) if str(v).isdigit()]
        return {"segment": "any", "op": "not_in" if op in ("ne", "not_in") else "in", "value": values}
    if kind == "trait":
        if isinstance(value, list):
            values = [{"true": True, "false": False}.get(v, v) for v in value]
            if op in ("eq", "ne"):
                return {"trait": name, "op": op, "value": values[0] if values else None}
            return {"trait": name, "op": op, "value": values}
        return {"trait": name, "op": op, "value": value}
    if kind == "health":
        return {"health": "score", "op": op, "value": value}
    if kind == "risk":
        return {"risk": "probability", "op": op, "value": round(float(value) / 100, 4)}
    return {"metric": name, "op": op, "value": value}


def param_field(trigger: str, name: str, default: Any) -> forms.Field:
    label = PARAM_LABELS.get(name, name)
    if isinstance(default, bool):
        return forms.BooleanField(label=label, required=False)
    if isinstance(default, int):
        return forms.IntegerField(label=label, min_value=0)
    if isinstance(default, float):
        return forms.FloatField(label=label, min_value=0)
    if isinstance(default, list):
        choices = list(Band.choices) if name == "bands" else list(StakeholderRole.choices)
        return forms.MultipleChoiceField(
            label=label, choices=choices, widget=forms.CheckboxSelectMultiple, required=False
        )
    if name == "metric":
        return forms.ChoiceField(label=label, choices=_metric_choices(), required=trigger == "metric_threshold")
    if name == "op":
        return forms.ChoiceField(label=label, choices=[(o, OP_LABELS[o]) for o in NUMBER_OPS])
    if name == "priority":
        return forms.ChoiceField(label=label, choices=[("", _("any")), *list(TicketPriority.choices)], required=False)
    return forms.CharField(label=label, required=False)


class ParamsForm(forms.Form):
    def __init__(self, *args: Any, trigger: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = TRIGGERS.get(trigger)
        for name, default in (spec.defaults if spec else {}).items():
            self.fields[name] = param_field(trigger, name, default)
        if "value" in self.fields:  # metric_threshold's value is a number, whatever its default
            self.fields["value"] = forms.FloatField(label=PARAM_LABELS["value"])


class RuleBuilder:
    """The trigger, its parameters and the condition rows of one rule form (bound or re-rendered)."""

    def __init__(
        self, *, data: QueryDict | None = None, rule_trigger: str = "", params: dict | None = None,
        conditions: list | None = None, action: str = "", refresh: dict[str, str] | None = None,
        segments: bool = True, conditions_only: bool = False,
    ) -> None:  # fmt: skip
        """``refresh``: the htmx attributes that re-render this builder (another form than the rule's
        reuses the condition rows); ``segments=False`` leaves segments out of the subjects;
        ``conditions_only``: no trigger or parameters to check (a segment's conditions)."""
        self.refresh, self.segments, self.conditions_only = refresh, segments, conditions_only
        self.errors: list[str] = []
        self.hidden: list[dict[str, Any]] = []  # stored conditions the builder cannot show: kept as they are
        if data is None:
            self.trigger = rule_trigger or next(iter(TRIGGERS))
            spec = TRIGGERS[self.trigger]
            initial = {**spec.defaults, **(params or {})}
            self.params = ParamsForm(initial=initial, trigger=self.trigger, prefix="param")
            rows = []
            for cond in conditions or []:
                row = condition_to_row(cond)
                if row is None:
                    self.hidden.append(cond)
                else:
                    rows.append(row)
            self.rows = [self._row(i, initial=row) for i, row in enumerate(rows)]
            self.bound = False
            return
        self.trigger = str(data.get("trigger")) if data.get("trigger") in TRIGGERS else next(iter(TRIGGERS))
        count = min(int(data.get("cond-count") or 0) if (data.get("cond-count") or "0").isdigit() else 0, 50)
        raw_rows = [
            {
                "subject": data.get(f"cond-{i}-subject", "field:tier"),
                "op": data.get(f"cond-{i}-op", "eq"),
                "value": data.getlist(f"cond-{i}-value"),
            }
            for i in range(count)
        ]
        self.bound = action in ("", "save", "preview")
        if action == "add_condition" and len(raw_rows) < MAX_CONDITIONS:
            raw_rows.append({"subject": "field:tier", "op": "in", "value": []})
        elif action.startswith("remove_condition:"):
            index = action.partition(":")[2]
            if index.isdigit() and int(index) < len(raw_rows):
                del raw_rows[int(index)]
        if self.bound:
            self.params = ParamsForm(data, trigger=self.trigger, prefix="param")
            self.rows = [self._row(i, data=self._row_data(i, raw)) for i, raw in enumerate(raw_rows)]
        else:
            defaults = TRIGGERS[self.trigger].defaults
            initial = {}
            for name, default in defaults.items():
                key = f"param-{name}"
                if key in data:
                    initial[name] = data.getlist(key) if isinstance(default, list) else data.get(key)
                elif isinstance(default, bool) and data.get("trigger_was") == self.trigger:
                    initial[name] = False
                elif data.get("trigger_was") != self.trigger:
                    initial[name] = default
            self.params = ParamsForm(initial=initial, trigger=self.trigger, prefix="param")
            self.rows = [self._row(i, initial=self._initial(raw)) for i, raw in enumerate(raw_rows)]
        try:
            self.hidden = [c for c in json.loads(data.get("hidden_conditions") or "[]") if isinstance(c, dict)]
        except ValueError:
            self.hidden = []

    @staticmethod
    def _initial(raw: dict[str, Any]) -> dict[str, Any]:
        choices = value_choices(raw["subject"])
        value = raw["value"] if choices is not None else (raw["value"][0] if raw["value"] else "")
        return {"subject": raw["subject"], "op": raw["op"], "value": value}

    @staticmethod
    def _row_data(i: int, raw: dict[str, Any]) -> QueryDict:
        q = QueryDict(mutable=True)
        q[f"cond-{i}-subject"] = raw["subject"]
        q[f"cond-{i}-op"] = raw["op"]
        q.setlist(f"cond-{i}-value", raw["value"])
        return q

    def _row(self, i: int, *, data: QueryDict | None = None, initial: dict[str, Any] | None = None) -> ConditionRow:
        subject = (initial or {}).get("subject") or (data.get(f"cond-{i}-subject") if data else "") or "field:tier"
        if subject not in {value for value, _l in _flat(subject_choices(segments=self.segments))}:
            subject = "field:tier"
        if initial is not None:
            initial = {**initial, "subject": subject}
        return ConditionRow(
            data, initial=initial, subject=subject, prefix=f"cond-{i}", refresh=self.refresh, segments=self.segments
        )

    def is_valid(self) -> bool:
        ok = self.conditions_only or self.params.is_valid()
        for row in self.rows:
            ok = row.is_valid() and ok
        return ok

    def cleaned(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(params, conditions) as the rule stores them; call after ``is_valid``."""
        if self.conditions_only:
            return {}, [row_to_condition(row.cleaned_data) for row in self.rows] + self.hidden
        spec = TRIGGERS[self.trigger]
        params = {}
        for name, default in spec.defaults.items():
            value = self.params.cleaned_data.get(name)
            if isinstance(default, str) and not value and name not in ("metric",):
                value = default
            params[name] = value if value is not None else default
        conditions = [row_to_condition(row.cleaned_data) for row in self.rows] + self.hidden
        return params, conditions

    def summary(self) -> tuple[list[tuple[str, str]], list[str]]:
        """The parameters and conditions in words, for readers who may not edit the rule."""
        params = []
        for name, field in self.params.fields.items():
            value = self.params.initial.get(name, "")
            choices = dict(getattr(field, "choices", []) or [])
            shown = (
                [str(choices.get(v, v)) for v in value] if isinstance(value, list) else [str(choices.get(value, value))]
            )
            params.append((str(field.label), ", ".join(shown)))
        labels = dict(_flat(subject_choices()))
        conditions = []
        for row in self.rows:
            subject, op, value = row.initial.get("subject", ""), row.initial.get("op", "eq"), row.initial.get("value")
            choices = dict(value_choices(subject) or [])
            values = value if isinstance(value, list) else [value]
            text = ", ".join(str(choices.get(str(v), v)) for v in values)
            conditions.append(f"{labels.get(subject, subject)} {OP_LABELS.get(op, op)} {text}")
        conditions += [json.dumps(c) for c in self.hidden]
        return params, conditions

    @property
    def hidden_json(self) -> str:
        return json.dumps(self.hidden)


def _flat(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for value, label in choices:
        if isinstance(label, list):
            out += label
        else:
            out.append((value, label))
    return out
