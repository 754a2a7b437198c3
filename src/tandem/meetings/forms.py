"""Forms: schedule or move a meeting, its notes, the CalDAV settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tandem.accounts.models import Account, Contact
from tandem.meetings.models import Meeting, MeetingKind
from tandem.users.models import User

_DT = {"type": "datetime-local"}
_FMT = "%Y-%m-%dT%H:%M"


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices, initial=MeetingKind.CHECK_IN)
    title = forms.CharField(label=_("Title"), max_length=300)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs=_DT, format=_FMT))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs=_DT, format=_FMT))
    location = forms.CharField(label=_("Location"), max_length=300, required=False)
    video_url = forms.URLField(label=_("Video link"), max_length=500, required=False, assume_scheme="https")
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts"), queryset=Contact.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    colleagues = forms.ModelMultipleChoiceField(
        label=_("Colleagues"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        start = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        initial.setdefault("starts_at", start)
        initial.setdefault("ends_at", start + dt.timedelta(hours=1))
        super().__init__(*args, **kwargs)
        contacts = self.fields["contacts"]
        assert isinstance(contacts, forms.ModelMultipleChoiceField)
        contacts.queryset = Contact.objects.filter(account=account, still_at_company=True).order_by(
            "last_name", "first_name"
        )

    @staticmethod
    def initial_for(meeting: Meeting) -> dict[str, Any]:
        return {
            "kind": meeting.kind,
            "title": meeting.title,
            "starts_at": timezone.localtime(meeting.starts_at),
            "ends_at": timezone.localtime(meeting.ends_at),
            "location": meeting.location,
            "video_url": meeting.video_url,
            "agenda": meeting.agenda,
            "contacts": list(meeting.contacts.values_list("pk", flat=True)),
            "colleagues": list(meeting.colleagues.values_list("pk", flat=True)),
        }


class NotesForm(forms.Form):
    summary = forms.CharField(label=_("Meeting notes"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)


class CalDavForm(forms.Form):
    url = forms.URLField(
        label=_("Calendar URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The address of the calendar collection itself, see the documentation for examples."),
    )
    username = forms.CharField(label=_("User name"), max_length=200, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("An app password where the server offers one. Leave empty to keep the saved password."),
    )
    enabled = forms.BooleanField(label=_("Sync this calendar"), required=False, initial=True)
