"""Forms of the user settings pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “CRM sync”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
