"""Forms of the account and contact pages, and the account picker every form that chooses an account uses.

Forms only parse and validate what was typed; the write goes through the same service the API
calls (``tandem.accounts.services``), and a refused write's field errors are put back on the form
(:func:`add_domain_errors`), so nothing is half-saved and every error shows next to its field.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import Country

from tandem.accounts.models import Account, Contact, LifecycleStage, StakeholderRole, Tier
from tandem.core.errors import DomainError
from tandem.traits.forms import trait_form_fields
from tandem.traits.selectors import trait_definitions
from tandem.users.models import User

PICKER_LIMIT = 20
_ID_SUFFIX = re.compile(r"\(#(\d{1,18})\)\s*$")


def add_domain_errors(form: forms.BaseForm, exc: DomainError, *, aliases: dict[str, str] | None = None) -> None:
    """Show a refused write's field errors on the form's fields (others above the form)."""
    aliases = aliases or {}
    if not exc.errors:
        form.add_error(None, exc.message)
    for error in exc.errors:
        name = aliases.get(error.field, error.field)
        if name.startswith("traits.") and f"trait_{name[7:]}" in form.fields:  # a custom field's own input
            name = f"trait_{name[7:]}"
        form.add_error(name if name in form.fields else None, error.message)


def picker_label(account: Account) -> str:
    """What the picker shows and sends back for an account: its name and id, so equal names stay apart."""
    return f"{account.name} (#{account.pk})"


def picker_names_id(text: str) -> bool:
    """Whether a picker value names an account by id ("Acme (#12)")."""
    return bool(_ID_SUFFIX.search(text))


def picker_search(queryset: QuerySet[Account], text: str) -> QuerySet[Account]:
    """Live accounts whose name or domain contains ``text`` (or whose id it names), by name."""
    text = text.strip()
    match = _ID_SUFFIX.search(text)
    qs = queryset.filter(archived_at__isnull=True)
    if match:
        return qs.filter(pk=int(match.group(1)))
    if text.startswith("#") and text[1:].isdigit() and len(text) < 19:
        return qs.filter(pk=int(text[1:]))
    return qs.filter(Q(name__icontains=text) | Q(domain__icontains=text)).order_by("name", "id")


class AccountPickerInput(forms.TextInput):
    """A search box whose suggestions (a ``<datalist>``) an htmx request fills as one types."""

    template_name = "accounts/_account_picker.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["widget"]["attrs"].update(
            {
                "list": f"{widget_id}-options",
                "autocomplete": "off",
                "role": "combobox",
                "placeholder": _("Type a name to search"),
                "hx-get": f"{reverse_lazy('accounts:search')}?field={name}",
                "hx-trigger": "input changed delay:250ms, focus once",
                "hx-target": f"#{widget_id}-options",
                "hx-swap": "innerHTML",
            }
        )
        context["widget"]["list_id"] = f"{widget_id}-options"
        return context


class AccountPickerField(forms.CharField):
    """Choose an account by typing: "Acme (#12)" from the suggestions, or a name only one account has."""

    widget = AccountPickerInput

    def __init__(self, *, queryset: QuerySet[Account] | None = None, **kwargs: Any) -> None:
        self.queryset = queryset if queryset is not None else Account.objects.none()
        kwargs.setdefault("max_length", 260)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Account):
            return picker_label(value)
        if isinstance(value, int):
            account = self.queryset.filter(pk=value).first()
            return picker_label(account) if account else ""
        return value

    def clean(self, value: Any) -> Account | None:
        text = super().clean(value)
        if not text:
            return None
        match = _ID_SUFFIX.search(text)
        if match:
            found = list(self.queryset.filter(pk=int(match.group(1)))[:1])
        else:
            found = list(self.queryset.filter(name__iexact=text.strip(), archived_at__isnull=True)[:2])
        if not found:
            raise forms.ValidationError(_("No account you may choose matches; pick one from the suggestions."))
        if len(found) > 1:
            raise forms.ValidationError(_("Several accounts have this name; pick one from the suggestions."))
        return found[0]


def _owner_field(label: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label,
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label=_("Unassigned"),
    )


class AccountForm(forms.Form):
    """Create or edit an account's own fields; revenue comes from its subscriptions."""

    name = forms.CharField(label=_("Name"), max_length=200)
    domain = forms.CharField(label=_("Domain"), max_length=253, required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices, initial=Tier.SMB)
    lifecycle_stage = forms.ChoiceField(
        label=_("Stage"), choices=LifecycleStage.choices, initial=LifecycleStage.ONBOARDING
    )
    csm_owner = _owner_field(_("CSM"))
    am_owner = _owner_field(_("Account manager"))
    parent = AccountPickerField(label=_("Parent account"), required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("Country"), required=False, choices=lambda: [("", "—"), *countries])
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="USD", widget=forms.TextInput(attrs={"size": 4})
    )
    start_date = forms.DateField(
        label=_("Customer since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)
    crm_id = forms.CharField(label=_("CRM id"), max_length=100, required=False)
    billing_id = forms.CharField(label=_("Billing id"), max_length=100, required=False)

    def __init__(self, *args: Any, parents: QuerySet[Account], account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent_field = self.fields["parent"]
        assert isinstance(parent_field, AccountPickerField)
        parent_field.queryset = parents.exclude(pk=account.pk) if account is not None else parents
        self.trait_definitions = trait_definitions(entity="account")
        self.fields.update(trait_form_fields(self.trait_definitions, account.traits if account is not None else None))

    @staticmethod
    def initial_for(account: Account) -> dict[str, Any]:
        return {
            "name": account.name,
            "domain": account.domain,
            "tier": account.tier,
            "lifecycle_stage": account.lifecycle_stage,
            "csm_owner": account.csm_owner_id,
            "am_owner": account.am_owner_id,
            "parent": account.parent,
            "industry": account.industry,
            "country": cast(Country, account.country).code or "" if account.country else "",
            "currency": account.currency,
            "start_date": account.start_date,
            "external_id": account.external_id or "",
            "crm_id": account.crm_id or "",
            "billing_id": account.billing_id or "",
        }


class ContactForm(forms.Form):
    def __init__(self, *args: Any, contact: Contact | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trait_definitions = trait_definitions(entity="contact")
        self.fields.update(trait_form_fields(self.trait_definitions, contact.traits if contact is not None else None))

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("The company's language")), *settings.LANGUAGES],
        required=False,
        help_text=_("The language of a success plan shared with this person."),
    )
    roles = forms.MultipleChoiceField(
        label=_("Stakeholder roles"),
        choices=StakeholderRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    @staticmethod
    def initial_for(contact: Contact) -> dict[str, Any]:
        return {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "title": contact.title,
            "is_primary": contact.is_primary,
            "language": contact.language,
            "roles": [r.role for r in contact.roles.all()],
        }


class ContactLeftForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ContactNewForm(ContactForm):
    """A contact added from the contacts list: the account is chosen with the picker."""

    account = AccountPickerField(label=_("Account"))
    field_order = ["account"]

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, AccountPickerField)
        field.queryset = accounts
        self.order_fields(["account"])


class ContactSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, email or job title")}),
    )
    left = forms.BooleanField(label=_("Include people who left"), required=False)
