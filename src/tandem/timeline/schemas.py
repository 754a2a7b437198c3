"""API schemas for timeline interactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from ninja import Field, FilterLookup, FilterSchema, Schema

from tandem.api.refs import Id, ReportsReferences
from tandem.timeline.models import Interaction, InteractionKind


class InteractionIn(ReportsReferences):
    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id
    kind: InteractionKind
    occurred_at: dt.datetime
    subject: str = ""
    summary: str = ""
    duration_minutes: int | None = None
    external_id: str | None = None
    users: list[Id] = Field(default_factory=list, description="Ids of team members who took part.")
    contacts: list[Id] = Field(default_factory=list, description="Ids of the account's contacts who took part.")
    cta: Id | None = Field(None, description="A call to action of the account this is a note on.")


class InteractionPatch(ReportsReferences):
    """Only the fields sent are changed; ``users``/``contacts``, when sent, replace the lists."""

    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id | None = None
    kind: InteractionKind | None = None
    occurred_at: dt.datetime | None = None
    subject: str | None = None
    summary: str | None = None
    duration_minutes: int | None = None
    external_id: str | None = None
    users: list[Id] | None = None
    contacts: list[Id] | None = None
    pinned: bool | None = Field(None, description="Pin to the top of the account's timeline, or unpin.")


class InteractionOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    kind: InteractionKind
    occurred_at: dt.datetime
    subject: str
    summary: str
    duration_minutes: int | None
    external_id: str | None
    author: int | None = Field(..., alias="author_id", description="Who logged it.")
    cta: int | None = Field(None, alias="cta_id", description="The call to action it is a note on.")
    pinned: bool = Field(False, description="Pinned to the top of the account's timeline.")
    edited_at: dt.datetime | None = Field(None, description="When its subject or text was last edited.")
    users: list[int]
    contacts: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_pinned(obj: Interaction) -> bool:
        return obj.pinned_at is not None

    @staticmethod
    def resolve_users(obj: Interaction) -> list[int]:
        return sorted(u.pk for u in obj.users.all())

    @staticmethod
    def resolve_contacts(obj: Interaction) -> list[int]:
        return sorted(c.pk for c in obj.contacts.all())


class InteractionFilter(FilterSchema):
    account: Id | None = None
    kind: InteractionKind | None = None
    external_id: str | None = None
    occurred_after: Annotated[dt.datetime | None, FilterLookup("occurred_at__gte")] = Field(
        None, description="At or after this time."
    )
    occurred_before: Annotated[dt.datetime | None, FilterLookup("occurred_at__lte")] = Field(
        None, description="At or before this time."
    )


class AttachmentOut(Schema):
    id: int
    interaction: int = Field(..., alias="interaction_id")
    filename: str
    content_type: str
    size: int
    uploaded_by: int | None = Field(..., alias="uploaded_by_id")
    uploaded_at: dt.datetime


class TimelineFilter(Schema):
    type: list[str] = Field(
        default_factory=list,
        description="Keep only entries of these types (repeat the parameter): call, email, meeting, note, "
        "comment, cta, milestone, survey, lifecycle, health, ticket, contract, opportunity.",
    )
    person: Id | None = Field(None, description="Only what this colleague logged, took part in or did.")
    cursor: str | None = Field(
        None, max_length=100, description="`next_cursor` of the previous page; absent for the first page."
    )
    limit: int = Field(25, ge=1, le=100)


class TimelineEntryOut(Schema):
    id: str = Field(..., description='"interaction-12" or "event-34".')
    type: str
    kind: str
    kind_label: str
    occurred_at: dt.datetime
    title: str
    detail: str
    body_html: str = Field(..., description="A note's Markdown or a comment, rendered and sanitised.")
    url: str = Field(..., description="The page of what the entry is about, when there is one.")
    actor: int | None = Field(..., description="The colleague who did it or logged it.")
    contacts: list[int]
    interaction: int | None = Field(..., description="The interaction's id, for an entry that is one.")
    attachments: list[AttachmentOut]
    pinned: bool
    edited: bool
    data: dict[str, Any] = Field(
        ..., description="What the event recorded; contract values are null for who may not see them."
    )


class TimelinePageOut(Schema):
    items: list[TimelineEntryOut]
    next_cursor: str | None
    pinned: list[TimelineEntryOut] = Field(..., description="Pinned entries (first page of an account only).")
