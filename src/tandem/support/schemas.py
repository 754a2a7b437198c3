"""API schemas for support tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, ClassVar

from ninja import Field, FilterLookup, FilterSchema, Schema

from tandem.api.refs import Id, ReportsReferences
from tandem.support.models import TicketPriority, TicketStatus


class TicketIn(ReportsReferences):
    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id
    contact: Id | None = Field(None, description="The requester; a contact of the account.")
    external_id: str | None = Field(None, description="Id in your helpdesk; unique.")
    subject: str
    priority: TicketPriority = TicketPriority.NORMAL
    status: TicketStatus = TicketStatus.NEW
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    satisfaction: int | None = Field(None, description="CSAT rating, 1-5.")


class TicketPatch(ReportsReferences):
    """Only the fields sent are changed."""

    references: ClassVar[Mapping[str, str]] = {"account": "accounts.Account"}

    account: Id | None = None
    contact: Id | None = None
    external_id: str | None = None
    subject: str | None = None
    priority: TicketPriority | None = None
    status: TicketStatus | None = None
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    satisfaction: int | None = None


class TicketOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    contact: int | None = Field(..., alias="contact_id")
    external_id: str | None
    subject: str
    priority: TicketPriority
    status: TicketStatus
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    satisfaction: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TicketFilter(FilterSchema):
    account: Id | None = None
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    external_id: str | None = None
    opened_after: Annotated[dt.datetime | None, FilterLookup("opened_at__gte")] = Field(
        None, description="Opened at or after this time."
    )
    opened_before: Annotated[dt.datetime | None, FilterLookup("opened_at__lte")] = Field(
        None, description="Opened at or before this time."
    )
