"""REST endpoints for the timeline's interactions."""

from django.db import transaction
from django.db.models import QuerySet
from ninja import Query, Router, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action, restrict
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.models import Account, Contact
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve_fields, resolve_many
from tandem.core.http import AuthenticatedHttpRequest
from tandem.timeline import services
from tandem.timeline.models import Interaction
from tandem.timeline.schemas import (
    InteractionFilter,
    InteractionIn,
    InteractionOut,
    InteractionPatch,
)
from tandem.users.models import User

router = Router(tags=["Interactions"])


def _interactions() -> QuerySet[Interaction]:
    return Interaction.objects.prefetch_related("users", "contacts")


def _participants(data: dict) -> dict:
    """Turn the ``users``/``contacts`` id lists in ``data`` into instances."""
    if data.get("users") is not None:
        data["users"] = resolve_many(User, data["users"], field="users")
    if data.get("contacts") is not None:
        data["contacts"] = resolve_many(Contact, data["contacts"], field="contacts")
    return data


@router.get(
    "/",
    response={200: list[InteractionOut], **PROBLEM_RESPONSES},
    summary="List interactions",
    description="Calls, emails, meetings, QBRs and notes, most recent first.",
)
@paginate(Pagination)
def list_interactions(request: AuthenticatedHttpRequest, filters: Query[InteractionFilter]) -> QuerySet[Interaction]:
    require_perm(request, "timeline.view_interaction")
    return filters.filter(restrict(_interactions(), user=request.user)).order_by("-occurred_at", "-id")


@router.get(
    "/{interaction_id}",
    response={200: InteractionOut, **PROBLEM_RESPONSES},
    summary="Get an interaction",
)
def get_interaction(request: AuthenticatedHttpRequest, interaction_id: Id) -> Interaction:
    require_perm(request, "timeline.view_interaction")
    return get_visible_or_404(_interactions(), user=request.user, pk=interaction_id)


@router.post(
    "/",
    response={201: InteractionOut, **PROBLEM_RESPONSES},
    summary="Log an interaction",
    description="Logged by the caller. `contacts` must all be contacts of the account.",
)
def create_interaction(request: AuthenticatedHttpRequest, payload: InteractionIn) -> Status:
    require_perm(request, "timeline.add_interaction")
    data = _participants(resolve_fields(payload.dict(), {"account": Account}))
    with transaction.atomic():
        interaction = services.interaction_create(acting_user=request.user, **data, author=request.user)
        ensure_created_in_scope(request.user, interaction)
    return Status(201, _interactions().get(pk=interaction.pk))


@router.patch(
    "/{interaction_id}",
    response={200: InteractionOut, **PROBLEM_RESPONSES},
    summary="Update an interaction",
    description="Changes only the fields sent; `users`/`contacts`, when sent, replace the lists.",
)
def update_interaction(request: AuthenticatedHttpRequest, interaction_id: Id, payload: InteractionPatch) -> Interaction:
    require_perm(request, "timeline.change_interaction")
    interaction = get_for_write(Interaction, user=request.user, pk=interaction_id)
    data = _participants(resolve_fields(payload.dict(exclude_unset=True), {"account": Account}))
    users, contacts = data.pop("users", None), data.pop("contacts", None)
    services.interaction_update(
        acting_user=request.user, interaction=interaction, data=data, users=users, contacts=contacts
    )
    return _interactions().get(pk=interaction.pk)


@router.delete(
    "/{interaction_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete an interaction",
)
def delete_interaction(request: AuthenticatedHttpRequest, interaction_id: Id) -> Status:
    require_perm(request, "timeline.delete_interaction")
    interaction = get_for_write(Interaction, user=request.user, action=Action.DELETE, pk=interaction_id)
    services.interaction_delete(acting_user=request.user, interaction=interaction)
    return Status(204, None)
