"""Forms for working a CTA and editing rules."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tandem.playbooks.models import CtaOutcome, Rule
from tandem.playbooks.triggers import TRIGGERS
from tandem.users.models import User


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CtaOutcome.choices)
    reason = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ExpansionOpportunityForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Expected added ARR"), min_value=0, max_digits=14, decimal_places=2,
        help_text=_("In the reporting currency; the account manager can refine it."),
    )  # fmt: skip
    close_date = forms.DateField(label=_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"}))


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("New owner"), queryset=User.objects.filter(is_active=True).order_by("username")
    )


class JSONField(forms.Field):
    """JSON typed into a text area; an empty one is ``empty``."""

    def __init__(self, *, empty: object, **kwargs: Any) -> None:
        self.empty = empty
        super().__init__(widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}), required=False, **kwargs)

    def to_python(self, value: str | None) -> object:
        value = (value or "").strip()
        if not value:
            return self.empty
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc

    def prepare_value(self, value: object) -> str:
        return value if isinstance(value, str) else json.dumps(value)


class RuleForm(forms.ModelForm):
    trigger = forms.ChoiceField(label=_("Trigger"), choices=[])
    params = JSONField(label=_("Trigger parameters (JSON)"), empty={})
    conditions = JSONField(label=_("Conditions (JSON list)"), empty=[])

    class Meta:
        model = Rule
        fields = [
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
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        trigger = self.fields["trigger"]
        assert isinstance(trigger, forms.ChoiceField)
        trigger.choices = [(k, str(s.label)) for k, s in TRIGGERS.items()]
