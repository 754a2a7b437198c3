"""REST endpoints for meetings: the caller's list, one meeting, schedule, change or move, cancel."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from ninja import Router, Status
from ninja.pagination import paginate

from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.models import Account, Contact
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve_many
from tandem.core.http import AuthenticatedHttpRequest
from tandem.meetings import selectors, services
from tandem.meetings.models import Meeting
from tandem.meetings.schemas import MeetingIn, MeetingOut, MeetingPatch
from tandem.users.models import User

router = Router(tags=["Meetings"])


def _meetings() -> QuerySet[Meeting]:
    return Meeting.objects.prefetch_related("contacts", "colleagues")


@router.get(
    "/",
    response={200: list[MeetingOut], **PROBLEM_RESPONSES},
    summary="List my meetings",
    description="Meetings the caller organises or attends; upcoming first, or `past=true` for the ones held.",
)
@paginate(Pagination)
def list_meetings(request: AuthenticatedHttpRequest, past: bool = False) -> QuerySet[Meeting]:
    return selectors.my_meetings(user=request.user, past=past).prefetch_related("contacts", "colleagues")


@router.get("/{meeting_id}", response={200: MeetingOut, **PROBLEM_RESPONSES}, summary="Get a meeting")
def get_meeting(request: AuthenticatedHttpRequest, meeting_id: Id) -> Meeting:
    return get_visible_or_404(_meetings(), user=request.user, pk=meeting_id)


@router.post(
    "/",
    response={201: MeetingOut, **PROBLEM_RESPONSES},
    summary="Schedule a meeting",
    description="Organised by the caller, who must be able to change the account; invitations go out by email.",
)
def create_meeting(request: AuthenticatedHttpRequest, payload: MeetingIn) -> Status:
    data = payload.dict()
    account = get_for_write(Account, user=request.user, pk=data.pop("account"))
    contacts = resolve_many(Contact, data.pop("contacts"), field="contacts")
    colleagues = resolve_many(User, data.pop("colleagues"), field="colleagues")
    with transaction.atomic():
        meeting = services.meeting_schedule(
            acting_user=request.user, account=account, contacts=contacts, colleagues=colleagues, **data
        )
        ensure_created_in_scope(request.user, meeting)
    return Status(201, _meetings().get(pk=meeting.pk))


@router.patch(
    "/{meeting_id}",
    response={200: MeetingOut, **PROBLEM_RESPONSES},
    summary="Change or move a meeting",
    description="Changes only the fields sent; a real change raises `sequence` and mails the update.",
)
def update_meeting(request: AuthenticatedHttpRequest, meeting_id: Id, payload: MeetingPatch) -> Meeting:
    meeting = get_for_write(Meeting.objects.select_related("account"), user=request.user, pk=meeting_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in ("contacts",)}
    contacts = data.pop("contacts", None)
    colleagues = data.pop("colleagues", None)
    services.meeting_update(
        acting_user=request.user,
        meeting=meeting,
        data=data,
        contacts=None if contacts is None else resolve_many(Contact, contacts, field="contacts"),
        colleagues=None if colleagues is None else resolve_many(User, colleagues, field="colleagues"),
    )
    return _meetings().get(pk=meeting.pk)


@router.post(
    "/{meeting_id}/cancel",
    response={200: MeetingOut, **PROBLEM_RESPONSES},
    summary="Cancel a meeting",
    description="The attendees get a METHOD:CANCEL invitation; the reminder is dropped.",
)
def cancel_meeting(request: AuthenticatedHttpRequest, meeting_id: Id) -> Meeting:
    meeting = get_for_write(Meeting, user=request.user, pk=meeting_id)
    services.meeting_cancel(acting_user=request.user, meeting=meeting)
    return _meetings().get(pk=meeting.pk)
