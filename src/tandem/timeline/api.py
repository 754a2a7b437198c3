"""REST endpoints for the timeline: interactions, their attachments, and each account's and contact's timeline."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from tandem.access.scoping import Action
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.models import Account, Contact
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve_fields, resolve_many
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks.models import CallToAction
from tandem.timeline import services
from tandem.timeline.entries import TYPES, TimelineItem
from tandem.timeline.models import Interaction, InteractionAttachment
from tandem.timeline.schemas import (
    AttachmentOut,
    InteractionFilter,
    InteractionIn,
    InteractionOut,
    InteractionPatch,
    TimelineFilter,
    TimelinePageOut,
)
from tandem.timeline.selectors import Cursor, interaction_list, timeline_page
from tandem.users.models import User

router = Router(tags=["Interactions"])
timeline_router = Router(tags=["Timeline"])
TYPE_NAMES = list(TYPES)


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
    return filters.filter(interaction_list(user=request.user))


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
    data = _participants(resolve_fields(payload.dict(), {"account": Account, "cta": CallToAction}))
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
    pinned = data.pop("pinned", None)
    with transaction.atomic():
        services.interaction_update(
            acting_user=request.user, interaction=interaction, data=data, users=users, contacts=contacts
        )
        if pinned is not None:
            services.interaction_pin(acting_user=request.user, interaction=interaction, pinned=pinned)
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


# --- attachments -----------------------------------------------------------------------------------


@router.get(
    "/{interaction_id}/attachments",
    response={200: list[AttachmentOut], **PROBLEM_RESPONSES},
    summary="List an interaction's attachments",
)
def list_attachments(request: AuthenticatedHttpRequest, interaction_id: Id) -> list[InteractionAttachment]:
    require_perm(request, "timeline.view_interaction")
    interaction = get_visible_or_404(Interaction.objects.all(), user=request.user, pk=interaction_id)
    return list(interaction.attachments.order_by("uploaded_at", "pk"))


@router.post(
    "/{interaction_id}/attachments",
    response={201: AttachmentOut, **PROBLEM_RESPONSES},
    summary="Attach a file",
    description="A multipart upload in the field `file`. PDF, images, office documents or UTF-8 text "
    "(.txt, .csv, .md); the type is read from the file's bytes. The size limit is the server's "
    "`TANDEM_ATTACHMENT_MAX_BYTES` (10 MB by default).",
)
def create_attachment(
    request: AuthenticatedHttpRequest, interaction_id: Id, file: File[UploadedFile | None] = None
) -> Status:
    require_perm(request, "timeline.change_interaction")
    interaction = get_for_write(Interaction, user=request.user, pk=interaction_id)
    if file is None:  # also an empty upload, which Django's parser drops
        raise DomainError(_("Invalid attachment."), [FieldError("file", _("Choose a file to attach."))])
    try:
        attachment = services.attachment_add(acting_user=request.user, interaction=interaction, upload=file)
    except DomainError as exc:
        # The form's field is "attachments"; here the upload is "file".
        exc.errors = [FieldError("file", e.message) for e in exc.errors]
        raise
    return Status(201, attachment)


@router.get(
    "/{interaction_id}/attachments/{attachment_id}",
    response={200: None, **PROBLEM_RESPONSES},
    summary="Download an attachment",
    description="The file itself, as a download with its content type.",
)
def download_attachment(request: AuthenticatedHttpRequest, interaction_id: Id, attachment_id: Id) -> FileResponse:
    require_perm(request, "timeline.view_interaction")
    attachment = get_visible_or_404(
        InteractionAttachment.objects.filter(interaction_id=interaction_id), user=request.user, pk=attachment_id
    )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type)


@router.delete(
    "/{interaction_id}/attachments/{attachment_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Remove an attachment",
)
def delete_attachment(request: AuthenticatedHttpRequest, interaction_id: Id, attachment_id: Id) -> Status:
    require_perm(request, "timeline.change_interaction")
    interaction = get_for_write(Interaction, user=request.user, pk=interaction_id)
    attachment = interaction.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    services.attachment_delete(acting_user=request.user, attachment=attachment)
    return Status(204, None)


# --- the timeline ------------------------------------------------------------------------------------


def _entry(item: TimelineItem) -> dict[str, Any]:
    return {
        "id": item.key,
        "type": item.type,
        "kind": item.kind,
        "kind_label": item.kind_label,
        "occurred_at": item.occurred_at,
        "title": item.title,
        "detail": item.detail,
        "body_html": str(item.body_html),
        "url": item.url,
        "actor": item.actor.pk if item.actor is not None else None,
        "contacts": [c.pk for c in item.contacts],
        "interaction": item.interaction.pk if item.interaction is not None else None,
        "attachments": item.attachments,
        "pinned": item.pinned,
        "edited": item.edited,
        "data": item.data,
    }


def _timeline(
    request: AuthenticatedHttpRequest, filters: TimelineFilter, *, account_id: int | None, contact_id: int | None
) -> dict[str, Any]:
    try:
        cursor = Cursor.decode(filters.cursor)
    except ValueError:
        raise DomainError(
            _("Invalid request."),
            [FieldError("cursor", _("Not a cursor this API gave out: start from the first page."))],
        ) from None
    unknown = sorted(set(filters.type) - set(TYPE_NAMES))
    if unknown:
        raise DomainError(
            _("Invalid request."),
            [
                FieldError(
                    "type",
                    _("Unknown type %(types)s; the types are %(known)s.")
                    % {"types": ", ".join(unknown), "known": ", ".join(TYPE_NAMES)},
                )
            ],
        )
    page = timeline_page(
        user=request.user,
        account_id=account_id,
        contact_id=contact_id,
        types=filters.type,
        person_id=filters.person,
        cursor=cursor,
        limit=filters.limit,
    )
    return {
        "items": [_entry(i) for i in page.items],
        "next_cursor": page.next_cursor,
        "pinned": [_entry(i) for i in page.pinned],
    }


@timeline_router.get(
    "/accounts/{account_id}/timeline",
    response={200: TimelinePageOut, **PROBLEM_RESPONSES},
    summary="An account's timeline",
    description="Interactions, emails, meetings, notes, comments, calls to action, milestones, survey answers, "
    "lifecycle and health changes, tickets, contract and opportunity changes, newest first. Pass `next_cursor` "
    "back as `cursor` for the next page.",
)
def account_timeline(
    request: AuthenticatedHttpRequest, account_id: Id, filters: Query[TimelineFilter]
) -> dict[str, Any]:
    require_perm(request, "timeline.view_interaction")
    account = get_visible_or_404(Account.objects.all(), user=request.user, pk=account_id)
    return _timeline(request, filters, account_id=account.pk, contact_id=None)


@timeline_router.get(
    "/contacts/{contact_id}/timeline",
    response={200: TimelinePageOut, **PROBLEM_RESPONSES},
    summary="A contact's timeline",
    description="What the contact took part in, answered, asked for or received, newest first.",
)
def contact_timeline(
    request: AuthenticatedHttpRequest, contact_id: Id, filters: Query[TimelineFilter]
) -> dict[str, Any]:
    require_perm(request, "timeline.view_interaction")
    contact = get_visible_or_404(Contact.objects.all(), user=request.user, pk=contact_id)
    return _timeline(request, filters, account_id=None, contact_id=contact.pk)
