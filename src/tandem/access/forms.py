from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tandem.access.models import AccessPolicy, BookScope, Team
from tandem.users.models import User

VIEW_CHOICES = [c for c in BookScope.choices if c[0] != BookScope.NONE]


class AccessPolicyForm(forms.ModelForm):
    view_accounts = forms.ChoiceField(label=_("sees accounts"), choices=VIEW_CHOICES)

    class Meta:
        model = AccessPolicy
        fields = (
            "view_accounts",
            "change_accounts",
            "see_contract_values",
            "change_commercial",
            "manage_configuration",
        )


class TeamForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("members"),
        queryset=User.objects.filter(is_active=True).order_by("first_name", "last_name", "username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Team
        fields = ("name", "members")
