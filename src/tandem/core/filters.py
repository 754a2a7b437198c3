"""Query-string parameters of list pages: bounded, so that no value someone types can reach the database raw."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# Ids are positive 64-bit integers (BigAutoField): a bigger number would overflow the database driver.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """A database id in a query string: a whole number from 1 to 2**63 - 1."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


def filter_values(form: forms.Form) -> dict[str, Any]:
    """The values of the fields that are valid; an invalid one is left out (the page shows its error)."""
    form.is_valid()
    return dict(form.cleaned_data)


class OwnerFilterForm(forms.Form):
    """The account-manager picker of the renewal center and the pipeline board."""

    owner = IdField(label=_("Account manager"))


class RenewalFilterForm(OwnerFilterForm):
    horizon = forms.IntegerField(label=_("Closing within (days)"), required=False, min_value=1, max_value=3650)


class PageForm(forms.Form):
    """``?page=`` of a paginated table; past a million pages is not a page anyone reads."""

    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=1_000_000)
