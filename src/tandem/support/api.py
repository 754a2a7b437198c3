"""REST endpoints for support tickets."""

from typing import Literal

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.models import Account, Contact
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve_fields
from tandem.core.http import AuthenticatedHttpRequest
from tandem.support import services
from tandem.support.models import Ticket
from tandem.support.schemas import TicketFilter, TicketIn, TicketOut, TicketPatch
from tandem.support.selectors import ticket_list

router = Router(tags=["Tickets"])

TICKET_REFS = {"account": Account, "contact": Contact}
TicketOrdering = Literal["opened_at", "-opened_at", "updated_at", "-updated_at"]


@router.get(
    "/",
    response={200: list[TicketOut], **PROBLEM_RESPONSES},
    summary="List tickets",
    description="Support tickets, newest first unless `ordering` says otherwise.",
)
@paginate(Pagination)
def list_tickets(
    request: HttpRequest,
    filters: Query[TicketFilter],
    ordering: TicketOrdering = "-opened_at",
) -> QuerySet[Ticket]:
    require_perm(request, "support.view_ticket")
    tie_breaker = "-id" if ordering.startswith("-") else "id"
    return filters.filter(ticket_list(user=request.user)).order_by(ordering, tie_breaker)


@router.get("/{ticket_id}", response={200: TicketOut, **PROBLEM_RESPONSES}, summary="Get a ticket")
def get_ticket(request: AuthenticatedHttpRequest, ticket_id: Id) -> Ticket:
    require_perm(request, "support.view_ticket")
    return get_visible_or_404(Ticket, user=request.user, pk=ticket_id)


@router.post(
    "/",
    response={201: TicketOut, **PROBLEM_RESPONSES},
    summary="Create a ticket",
    description="The requester (`contact`) must be a contact of the ticket's account.",
)
def create_ticket(request: AuthenticatedHttpRequest, payload: TicketIn) -> Status:
    require_perm(request, "support.add_ticket")
    data = resolve_fields(payload.dict(), TICKET_REFS)
    with transaction.atomic():
        ticket = services.ticket_create(acting_user=request.user, **data)
        ensure_created_in_scope(request.user, ticket)
    return Status(201, ticket)


@router.patch(
    "/{ticket_id}",
    response={200: TicketOut, **PROBLEM_RESPONSES},
    summary="Update a ticket",
    description="Changes only the fields sent.",
)
def update_ticket(request: AuthenticatedHttpRequest, ticket_id: Id, payload: TicketPatch) -> Ticket:
    require_perm(request, "support.change_ticket")
    ticket = get_for_write(Ticket, user=request.user, pk=ticket_id)
    data = resolve_fields(payload.dict(exclude_unset=True), TICKET_REFS)
    return services.ticket_update(acting_user=request.user, ticket=ticket, data=data)


@router.delete("/{ticket_id}", response={204: None, **PROBLEM_RESPONSES}, summary="Delete a ticket")
def delete_ticket(request: AuthenticatedHttpRequest, ticket_id: Id) -> Status:
    require_perm(request, "support.delete_ticket")
    services.ticket_delete(
        acting_user=request.user, ticket=get_for_write(Ticket, user=request.user, action=Action.DELETE, pk=ticket_id)
    )
    return Status(204, None)
