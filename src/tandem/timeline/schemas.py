"""API schemas for timeline interactions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Schema

from tandem.api.refs import Id
from tandem.timeline.models import Interaction, InteractionKind


class InteractionIn(Schema):
    account: Id
    kind: InteractionKind
    occurred_at: dt.datetime
    subject: str = ""
    summary: str = ""
    duration_minutes: int | None = None
    external_id: str | None = None
    users: list[Id] = Field(default_factory=list, description="Ids of team members who took part.")
    contacts: list[Id] = Field(default_factory=list, description="Ids of the account's contacts who took part.")


class InteractionPatch(Schema):
    """Only the fields sent are changed; ``users``/``contacts``, when sent, replace the lists."""

    account: Id | None = None
    kind: InteractionKind | None = None
    occurred_at: dt.datetime | None = None
    subject: str | None = None
    summary: str | None = None
    duration_minutes: int | None = None
    external_id: str | None = None
    users: list[Id] | None = None
    contacts: list[Id] | None = None


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
    users: list[int]
    contacts: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

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
