"""The form that opens an expansion opportunity (pipeline page, account page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tandem.accounts.forms import AccountPickerField
from tandem.accounts.models import Account
from tandem.opportunities.models import EXPANSION_KINDS, OpportunityKind


class OpportunityForm(forms.Form):
    account = AccountPickerField(label=_("Account"))
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k.value, k.label) for k in EXPANSION_KINDS], initial=OpportunityKind.UPSELL
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    amount = forms.DecimalField(label=_("Added ARR"), min_value=0, max_digits=14, decimal_places=2)
    close_date = forms.DateField(label=_("Close date"), widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, AccountPickerField)
        field.queryset = accounts
