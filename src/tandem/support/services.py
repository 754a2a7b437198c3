"""Writes on support tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.errors import FieldError
from tandem.core.progress import Progress
from tandem.core.services import blank_to_none, model_assign, model_save, model_validate
from tandem.support.models import Ticket, TicketPriority, TicketStatus
from tandem.timeline import events
from tandem.timeline.models import EventKind
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


# A ticket is solved on the timeline when it moves into one of these (solved, then closed, is one solve).
DONE_STATUSES = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


def _opened_event(ticket: Ticket, *, actor_id: int | None) -> events.Event:
    return events.Event(
        account_id=ticket.account_id,
        kind=EventKind.TICKET_OPENED,
        occurred_at=ticket.opened_at,
        actor_id=actor_id,
        contact_id=ticket.contact_id,
        target=ticket,
        data={"subject": ticket.subject, "priority": ticket.priority},
    )


def _solved_event(ticket: Ticket, *, actor_id: int | None) -> events.Event:
    return events.Event(
        account_id=ticket.account_id,
        kind=EventKind.TICKET_SOLVED,
        occurred_at=ticket.closed_at or timezone.now(),
        actor_id=actor_id,
        contact_id=ticket.contact_id,
        target=ticket,
        data={"subject": ticket.subject, "status": ticket.status},
    )


def _ticket_events(
    tickets: Sequence[Ticket], *, before: Mapping[Any, Mapping[str, Any]] | None, actor_id: int | None
) -> list[events.Event]:
    """The timeline events of tickets just written: a new ticket (``before`` None) is opened, and
    solved too when it arrives solved or closed; a stored one is solved when its status moved into
    solved or closed from its stored value in ``before`` (pk -> the replaced ``status``)."""
    found: list[events.Event] = []
    for ticket in tickets:
        if before is None:
            found.append(_opened_event(ticket, actor_id=actor_id))
            was_done = False
        else:
            stored = before.get(ticket.pk)
            if stored is None or "status" not in stored:  # the status was not written
                continue
            was_done = stored["status"] in DONE_STATUSES
        if ticket.status in DONE_STATUSES and not was_done:
            found.append(_solved_event(ticket, actor_id=actor_id))
    return found


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
    _save_ticket(ticket)
    events.record_many(_ticket_events([ticket], before=None, actor_id=_actor(acting_user)))
    return ticket


@write_service
def ticket_update(*, acting_user: User | None, ticket: Ticket, data: Mapping[str, Any]) -> Ticket:
    """Change some of a ticket's fields (see TICKET_FIELDS); moving it into solved or closed is on
    the timeline."""
    status_before = ticket.status
    if model_assign(ticket, data=_normalise(dict(data)), fields=TICKET_FIELDS):
        _save_ticket(ticket)
        before = {ticket.pk: {"status": status_before}}
        events.record_many(_ticket_events([ticket], before=before, actor_id=_actor(acting_user)))
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
    """Insert and update support tickets in batches (imports, syncs, the demo), with their audit
    entries and timeline events: each new ticket is opened (and solved, when it arrives solved) at
    its own times, and an updated one is solved when its status moves into solved or closed from
    the stored one. Re-importing the same tickets changes nothing, so it records nothing."""
    replaced = bulk_save(Ticket, creates=creates, updates=updates, fields=fields, now=now, progress=progress)
    actor_id = _actor(acting_user)
    found = _ticket_events(creates, before=None, actor_id=actor_id)
    if "status" in fields:
        found += _ticket_events(updates, before=replaced, actor_id=actor_id)
    events.record_many(found)


def _actor(user: User | None) -> int | None:
    return user.pk if user is not None else None
