"""API schemas for meetings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import ClassVar

from ninja import Field, Schema

from tandem.api.refs import Id, ReportsReferences
from tandem.meetings.models import Meeting, MeetingKind, MeetingStatus


class MeetingIn(ReportsReferences):
    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id
    kind: MeetingKind
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str = ""
    video_url: str = ""
    agenda: str = ""
    contacts: list[Id] = Field(default_factory=list, description="Ids of the account's contacts to invite.")
    colleagues: list[Id] = Field(default_factory=list, description="Ids of colleagues to invite.")


class MeetingPatch(Schema):
    """Only the fields sent are changed; ``contacts``/``colleagues``, when sent, replace the lists."""

    kind: MeetingKind | None = None
    title: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    location: str | None = None
    video_url: str | None = None
    agenda: str | None = None
    contacts: list[Id] | None = None
    colleagues: list[Id] | None = None


class MeetingOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    kind: MeetingKind
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    video_url: str
    agenda: str
    status: MeetingStatus
    organizer: int | None = Field(..., alias="organizer_id")
    uid: str = Field(..., description="The iCalendar UID, stable for the meeting's life.")
    sequence: int = Field(..., description="The iCalendar SEQUENCE: raised by every change.")
    contacts: list[int]
    colleagues: list[int]
    interaction: int | None = Field(None, alias="interaction_id", description="Its notes on the timeline.")

    @staticmethod
    def resolve_contacts(obj: Meeting) -> list[int]:
        return sorted(c.pk for c in obj.contacts.all())

    @staticmethod
    def resolve_colleagues(obj: Meeting) -> list[int]:
        return sorted(u.pk for u in obj.colleagues.all())
