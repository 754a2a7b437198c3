"""Writes on support tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.errors import FieldError
from tandem.core.progress import Progress
from tandem.core.services import blank_to_none, model_assign, model_save, model_validate
from tandem.support.models import Ticket, TicketPriority, TicketStatus
from tandem.users.models import User

TICKET_FIELDS = (
    "account",
    "contact",
    "external_id",
    "subject",
    "priority",
    "status",
    "opened_at",
    "closed_at",
    "satisfaction",
)


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    if "external_id" in data:
        data["external_id"] = blank_to_none(data["external_id"])
    if isinstance(data.get("subject"), str):
        data["subject"] = data["subject"].strip()
    return data


def _save_ticket(ticket: Ticket) -> Ticket:
    message = _("Invalid ticket.")
    extra: list[FieldError] = []
    if ticket.contact is not None and ticket.contact.account_id != ticket.account_id:
        extra.append(FieldError("contact", _("The requester belongs to another account.")))
    model_validate(ticket, message=message, extra_errors=extra)
    model_save(ticket, message=message)
    return ticket


@write_service
def ticket_create(
    *,
    acting_user: User | None,
    account: Account,
    subject: str,
    opened_at: dt.datetime,
    contact: Contact | None = None,
    priority: str = TicketPriority.NORMAL,
    status: str = TicketStatus.NEW,
    closed_at: dt.datetime | None = None,
    satisfaction: int | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Record a support ticket of an account; the requester must be one of its contacts."""
    ticket = Ticket()
    model_assign(
        ticket,
        data=_normalise(
            {
                "account": account,
                "contact": contact,
                "external_id": external_id,
                "subject": subject,
                "priority": priority,
                "status": status,
                "opened_at": opened_at,
                "closed_at": closed_at,
                "satisfaction": satisfaction,
            }
        ),
        fields=TICKET_FIELDS,
    )
    return _save_ticket(ticket)


@write_service
def ticket_update(*, acting_user: User | None, ticket: Ticket, data: Mapping[str, Any]) -> Ticket:
    """Change some of a ticket's fields (see TICKET_FIELDS)."""
    if model_assign(ticket, data=_normalise(dict(data)), fields=TICKET_FIELDS):
        _save_ticket(ticket)
    return ticket


@write_service
def ticket_delete(*, acting_user: User | None, ticket: Ticket) -> None:
    """Delete a ticket."""
    ticket.delete()


@write_service
def ticket_bulk_upsert(
    *,
    acting_user: User | None,
    creates: Sequence[Ticket],
    updates: Sequence[Ticket],
    fields: Sequence[str],
    now: dt.datetime,
    progress: Progress | None = None,
) -> None:
    """Insert and update support tickets in batches (imports), with their audit entries."""
    bulk_save(Ticket, creates=creates, updates=updates, fields=fields, now=now, progress=progress)
