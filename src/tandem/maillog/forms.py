from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tandem.accounts.forms import AccountPickerField
from tandem.accounts.models import Account


class AssignForm(forms.Form):
    account = AccountPickerField(label=_("Account"))

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, AccountPickerField)
        field.queryset = accounts
