"""Forms for working a CTA and editing rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tandem.playbooks.models import CtaOutcome, Playbook, Rule
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


class RuleForm(forms.ModelForm):
    """What a rule does when it fires; its trigger, parameters and conditions are the builder's (builder.py)."""

    class Meta:
        model = Rule
        fields = [
            "name",
            "description",
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
        playbook = self.fields["playbook"]
        assert isinstance(playbook, forms.ModelChoiceField)
        playbook.queryset = Playbook.objects.filter(is_active=True).order_by("name")
        if not playbook.queryset.exists():
            playbook.help_text = _("No playbook yet: install the shipped library or create one under Settings.")
