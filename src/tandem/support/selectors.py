"""Reads on support tickets."""

from __future__ import annotations

from django.db.models import BooleanField, Case, QuerySet, Value, When

from tandem.support.models import OPEN_TICKET_STATUSES, Ticket


def account_tickets(*, account_id: int, limit: int = 20) -> list[Ticket]:
    """An account's tickets for the 360 page: open ones first, then the most recently opened."""
    return list(
        Ticket.objects.filter(account_id=account_id)
        .select_related("contact")
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
    """Open tickets most recently opened, optionally only on ``accounts`` (a queryset of them)."""
    tickets = Ticket.objects.filter(status__in=OPEN_TICKET_STATUSES)
    if accounts is not None:
        tickets = tickets.filter(account__in=accounts.values("pk"))
    return list(tickets.select_related("account").order_by("-opened_at", "-id")[:limit])
