"""Schedule, move and cancel meetings; write their notes on the timeline; the calendar feed and CalDAV settings.

Every change to a meeting raises its ``sequence`` (the iCalendar SEQUENCE) and, in the same
transaction, queues what follows from it (tandem.meetings.jobs): the invitation or cancellation
mail of that revision, the reminder before the start (the reminder of an earlier revision is
dropped), and a CalDAV sync of every attendee who connected a calendar.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.meetings import jobs
from tandem.meetings.crypto import encrypt
from tandem.meetings.models import CalDavSettings, CalendarFeed, Meeting, MeetingKind, MeetingStatus
from tandem.timeline import events
from tandem.timeline.models import EventKind, Interaction, InteractionKind
from tandem.timeline.services import interaction_create, interaction_update
from tandem.users.models import User

EDITABLE = ("kind", "title", "starts_at", "ends_at", "location", "video_url", "agenda")


def _record(meeting: Meeting, kind: EventKind, *, acting_user: User | None, moved: bool = False) -> None:
    data: dict[str, Any] = {"title": meeting.title, "starts_at": meeting.starts_at, "kind": meeting.kind}
    if kind == EventKind.MEETING_SCHEDULED:
        data["moved"] = moved
    events.record(
        account_id=meeting.account_id,
        kind=kind,
        occurred_at=timezone.now(),
        actor_id=acting_user.pk if acting_user is not None else None,
        target=meeting,
        data=data,
    )


def _validate(
    *, account: Account, data: dict[str, Any], contacts: Sequence[Contact], colleagues: Sequence[User]
) -> None:
    errors: list[FieldError] = []
    if data.get("kind") not in MeetingKind.values:
        errors.append(FieldError("kind", _("Choose a kind of meeting.")))
    if not (data.get("title") or "").strip():
        errors.append(FieldError("title", _("Give the meeting a title.")))
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if starts_at is None:
        errors.append(FieldError("starts_at", _("Give a start time.")))
    if ends_at is None:
        errors.append(FieldError("ends_at", _("Give an end time.")))
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors.append(FieldError("ends_at", _("The meeting must end after it starts.")))
    if any(c.account_id != account.pk for c in contacts):
        errors.append(FieldError("contacts", _("Invite only contacts of this account.")))
    if any(not u.is_active for u in colleagues):
        errors.append(FieldError("colleagues", _("Invite only active colleagues.")))
    if errors:
        raise DomainError(_("The meeting was not saved."), errors)


@write_service
def meeting_schedule(
    *,
    acting_user: User | None,
    account: Account,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str = "",
    video_url: str = "",
    agenda: str = "",
    contacts: Sequence[Contact] = (),
    colleagues: Sequence[User] = (),
    organizer: User | None = None,
    uid: str | None = None,
) -> Meeting:
    """Put a meeting on an account's calendar and queue its invitations, reminder and calendar sync."""
    data = {
        "kind": kind,
        "title": title.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "location": location.strip(),
        "video_url": video_url.strip(),
        "agenda": agenda,
    }
    _validate(account=account, data=data, contacts=contacts, colleagues=colleagues)
    meeting = Meeting(account=account, organizer=organizer or acting_user, uid=uid or f"{uuid.uuid4()}@tandem", **data)
    meeting.save()
    meeting.contacts.set(contacts)
    meeting.colleagues.set(colleagues)
    _record(meeting, EventKind.MEETING_SCHEDULED, acting_user=acting_user)
    jobs.after_change(meeting)
    return meeting


@write_service
def meeting_update(
    *,
    acting_user: User | None,
    meeting: Meeting,
    data: dict[str, Any],
    contacts: Sequence[Contact] | None = None,
    colleagues: Sequence[User] | None = None,
) -> Meeting:
    """Change (or move) a meeting; a real change raises its SEQUENCE and sends the updated invitation."""
    if meeting.is_cancelled:
        raise DomainError(_("A cancelled meeting cannot be changed."))
    values = {name: data.get(name, getattr(meeting, name)) for name in EDITABLE}
    for name in ("title", "location", "video_url"):
        values[name] = (values[name] or "").strip()
    new_contacts = list(meeting.contacts.all()) if contacts is None else list(contacts)
    new_colleagues = list(meeting.colleagues.all()) if colleagues is None else list(colleagues)
    _validate(account=meeting.account, data=values, contacts=new_contacts, colleagues=new_colleagues)
    changed = [name for name in EDITABLE if getattr(meeting, name) != values[name]]
    people_changed = {c.pk for c in new_contacts} != set(meeting.contacts.values_list("pk", flat=True)) or {
        u.pk for u in new_colleagues
    } != set(meeting.colleagues.values_list("pk", flat=True))
    if not changed and not people_changed:
        return meeting
    for name in changed:
        setattr(meeting, name, values[name])
    meeting.sequence += 1
    meeting.save()
    if people_changed:
        meeting.contacts.set(new_contacts)
        meeting.colleagues.set(new_colleagues)
    if "starts_at" in changed:  # other changes reach the attendees by the updated invitation only
        _record(meeting, EventKind.MEETING_SCHEDULED, acting_user=acting_user, moved=True)
    jobs.after_change(meeting)
    return meeting


@write_service
def meeting_cancel(*, acting_user: User | None, meeting: Meeting) -> Meeting:
    """Cancel: the attendees get a METHOD:CANCEL, the reminder is dropped, calendars mark it cancelled."""
    if meeting.is_cancelled:
        return meeting
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.sequence += 1
    meeting.save()
    _record(meeting, EventKind.MEETING_CANCELLED, acting_user=acting_user)
    jobs.after_change(meeting)
    return meeting


@write_service
def meeting_record_notes(*, acting_user: User | None, meeting: Meeting, summary: str) -> Interaction:
    """Write the meeting's notes on the account's timeline (once; later calls change the same entry)."""
    if not summary.strip():
        raise DomainError(_("Write some notes."), [FieldError("summary", _("Write some notes."))])
    if meeting.interaction_id is not None:
        interaction = meeting.interaction
        assert interaction is not None
        return interaction_update(acting_user=acting_user, interaction=interaction, data={"summary": summary})
    minutes = max(1, int((meeting.ends_at - meeting.starts_at).total_seconds() // 60))
    interaction = interaction_create(
        acting_user=acting_user,
        account=meeting.account,
        kind=InteractionKind.MEETING,
        occurred_at=meeting.starts_at,
        subject=f"{meeting.get_kind_display()}: {meeting.title}",
        summary=summary,
        duration_minutes=minutes,
        author=acting_user,
        users=list(meeting.colleagues.all()),
        contacts=list(meeting.contacts.all()),
    )
    meeting.interaction = interaction
    meeting.save(update_fields=["interaction", "updated_at"])
    return interaction


# --- the calendar feed ---------------------------------------------------------------------------


@write_service
def calendar_feed_rotate(*, acting_user: User | None, user: User) -> CalendarFeed:
    """Give the user a new feed token (creating the feed); the old URL stops working at once."""
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.get_or_create(user=user, defaults={"token": token})
    if not created:
        feed.token = token
        feed.save()
    return feed


@write_service
def calendar_feed_revoke(*, acting_user: User | None, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()


# --- CalDAV settings --------------------------------------------------------------------------


@write_service
def caldav_settings_save(
    *, acting_user: User | None, user: User, url: str, username: str, password: str | None, enabled: bool = True
) -> CalDavSettings:
    """Save where the user's calendar lives; ``password=None`` keeps the stored one. Queues a first sync."""
    from tandem.core.outbound import OutboundRefused, outbound_url_check

    try:
        outbound_url_check(url)
    except OutboundRefused as exc:
        raise DomainError(exc.message, [FieldError("url", exc.message)]) from None
    settings_row = CalDavSettings.objects.filter(user=user).first() or CalDavSettings(user=user)
    moved = settings_row.pk is not None and settings_row.url != url
    settings_row.url = url
    settings_row.username = username
    if password is not None:
        settings_row.password_encrypted = encrypt(password) if password else ""
    settings_row.enabled = enabled
    settings_row.save()
    if moved:  # another calendar: what was pushed to the old one is not on it
        settings_row.events.all().delete()
    if enabled:
        jobs.enqueue_sync(settings_row.pk)
    return settings_row


@write_service
def caldav_settings_delete(*, acting_user: User | None, user: User) -> None:
    CalDavSettings.objects.filter(user=user).delete()
