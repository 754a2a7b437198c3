"""Reads on support tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import BooleanField, Case, QuerySet, Value, When

from tandem.access.scoping import restrict
from tandem.accounts.models import live_account_q
from tandem.support.models import OPEN_TICKET_STATUSES, Ticket

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User


def ticket_list(*, user: User | AnonymousUser, account_id: int | None = None) -> QuerySet[Ticket]:
    """Tickets this person may see, with their requester; the REST API and the account page read it."""
    qs = Ticket.objects.select_related("contact")
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return restrict(qs, user=user)


def account_tickets(*, user: User | AnonymousUser, account_id: int, limit: int = 20) -> list[Ticket]:
    """An account's tickets for the 360 page: open ones first, then the most recently opened."""
    return list(
        ticket_list(user=user, account_id=account_id)
        .annotate(
            open_first=Case(
                When(status__in=OPEN_TICKET_STATUSES, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-open_first", "-opened_at", "-id")[:limit]
    )


def tickets_open_recent(*, accounts: QuerySet | None = None, limit: int = 10) -> list[Ticket]:
    """Open tickets of live accounts most recently opened, optionally only on ``accounts`` (a queryset of them)."""
    tickets = Ticket.objects.filter(live_account_q(), status__in=OPEN_TICKET_STATUSES)
    if accounts is not None:
        tickets = tickets.filter(account__in=accounts.values("pk"))
    return list(tickets.select_related("account").order_by("-opened_at", "-id")[:limit])
