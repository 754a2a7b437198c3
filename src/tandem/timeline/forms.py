"""Forms for logging activity on an account and writing notes on a call to action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tandem.accounts.models import Account, Contact
from tandem.timeline.models import InteractionKind
from tandem.users.models import User


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); each is checked by ``attachment_add``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, images, office documents or text, up to %(size)s each.")
        % {"size": filesizeformat(settings.TANDEM_ATTACHMENT_MAX_BYTES)},
    )


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=InteractionKind.choices, initial=InteractionKind.CALL)
    occurred_at = forms.DateTimeField(
        label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=24 * 60, required=False)
    summary = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("Markdown: **bold**, *italics*, lists, links."),
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts involved"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    users = forms.ModelMultipleChoiceField(
        label=_("Colleagues involved"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )

    attachments = forms.Field(required=False)  # replaced in __init__ (its help text reads a setting)
    pinned = forms.BooleanField(label=_("Pin to the top of the timeline"), required=False)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault(
            "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = _attachments_field()
        contacts = self.fields["contacts"]
        assert isinstance(contacts, forms.ModelMultipleChoiceField)
        contacts.queryset = Contact.objects.filter(account=account, still_at_company=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("subject") or data.get("summary")):
            self.add_error("subject", _("Give a subject or some notes."))
        return data


class QuickNoteForm(forms.Form):
    """A note written straight on the account's timeline."""

    text = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a note… (Markdown)")}),
        max_length=10000,
    )
    attachments = forms.Field(required=False)
    pinned = forms.BooleanField(label=_("Pin"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = _attachments_field()


class TimelineFilterForm(forms.Form):
    """The timeline's filters; anything invalid is ignored rather than refused (a page, not an API)."""

    type = forms.ChoiceField(label=_("Type"), required=False)
    person = forms.TypedChoiceField(label=_("Colleague"), required=False, coerce=int, empty_value=None)
    contact = forms.TypedChoiceField(label=_("Contact"), required=False, coerce=int, empty_value=None)
    cursor = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, people: list[tuple[int, str]], contacts: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        from tandem.timeline.entries import TYPES

        super().__init__(*args, **kwargs)
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [("", _("All types"))] + [(name, t.label) for name, t in TYPES.items()]
        person = self.fields["person"]
        assert isinstance(person, forms.TypedChoiceField)
        person.choices = [("", _("Everyone"))] + [(str(pk), name) for pk, name in people]
        contact = self.fields["contact"]
        assert isinstance(contact, forms.TypedChoiceField)
        if contacts is None:
            del self.fields["contact"]
        else:
            contact.choices = [("", _("All contacts"))] + [(str(pk), name) for pk, name in contacts]

    def values(self) -> dict[str, Any]:
        """The valid filters; an invalid one is dropped, never a 500."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "types": [data["type"]] if data.get("type") else [],
            "person_id": data.get("person"),
            "contact_id": data.get("contact"),
            "cursor": data.get("cursor") or "",
        }


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
