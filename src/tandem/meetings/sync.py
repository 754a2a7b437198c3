"""Two-way sync of a user's meetings with their CalDAV calendar (the ``caldav`` library).

One pass, idempotent, matched on the iCalendar UID (never on titles or times), so repeated syncs
never duplicate anything:

* a meeting changed in Tandem since the last sync (its SEQUENCE is above the one recorded for this
  calendar) is written to the server: created at ``<uid>.ics`` or stored over the existing object;
  a cancelled meeting stays on the server with STATUS:CANCELLED;
* an event changed on the server (its ETag differs from the one recorded) is read back: new times
  move the meeting, STATUS:CANCELLED or a deleted object cancels it, a new title or location is
  taken; Tandem then sends the updated invitations and moves the reminder like any other change;
* an event created on the server whose attendees include a contact the user may change becomes a
  meeting on that contact's account (keeping the server's UID).

When both sides changed the same meeting between two syncs, Tandem's version wins (it has the
higher SEQUENCE and the attendees were already told of it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from caldav.calendarobjectresource import Event as CalDavObject
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.lib.error import NotFoundError
from django.db.models import Q
from django.utils import timezone

from tandem.access.scoping import Action, can, restrict
from tandem.accounts.models import Contact
from tandem.audit.context import audit_context
from tandem.core.outbound import outbound_url_check
from tandem.meetings import ical, jobs
from tandem.meetings.crypto import decrypt
from tandem.meetings.models import CalDavEvent, CalDavSettings, Meeting, MeetingKind

log = logging.getLogger(__name__)

WINDOW_BEFORE = dt.timedelta(days=30)
WINDOW_AFTER = dt.timedelta(days=366)
GONE = "-"  # the etag recorded for an event deleted on the server


@dataclass
class SyncStats:
    pushed: int = 0
    pulled: int = 0
    created: int = 0
    cancelled: int = 0


def connect(row: CalDavSettings) -> Calendar:
    """The calendar collection at the configured URL (checked by the SSRF guard first)."""
    outbound_url_check(row.url)
    client = DAVClient(
        url=row.url,
        username=row.username or None,
        password=decrypt(row.password_encrypted) or None,
        timeout=30,
        enable_rfc6764=False,
        require_tls=False,
    )
    return client.calendar(url=row.url)


def sync_calendar(row: CalDavSettings) -> SyncStats:
    """Sync once; records the time or the error on the settings, and queues the next periodic sync."""
    try:
        with audit_context(actor=row.user):
            stats = _sync(row, connect(row))
    except Exception as exc:
        CalDavSettings.objects.filter(pk=row.pk).update(last_error=str(exc)[:2000])
        raise
    else:
        CalDavSettings.objects.filter(pk=row.pk).update(last_synced_at=timezone.now(), last_error="")
        return stats
    finally:
        jobs.enqueue_next_periodic_sync(row.pk)


def _fingerprint(obj: Any) -> str:
    etag = getattr(obj, "etag", None)
    if etag:
        return str(etag)[:200]
    return "sha256:" + hashlib.sha256((obj.data or "").encode()).hexdigest()


def _server_events(calendar: Calendar) -> dict[str, Any]:
    now = timezone.now()
    found: dict[str, Any] = {}
    # A synchronous client: search returns a list (the library types it as list | coroutine).
    results: Any = calendar.search(start=now - WINDOW_BEFORE, end=now + WINDOW_AFTER, event=True, expand=False)
    for obj in results:
        event = ical.parse_event(obj.data)
        if event is not None and event.get("uid"):
            found[str(event.get("uid"))] = obj
    return found


def _sync(row: CalDavSettings, calendar: Calendar) -> SyncStats:
    from tandem.meetings.services import meeting_cancel, meeting_update

    user = row.user
    stats = SyncStats()
    since = timezone.now() - WINDOW_BEFORE
    mine = (
        Meeting.objects.filter(Q(organizer=user) | Q(colleagues=user), ends_at__gte=since)
        .distinct()
        .select_related("account", "organizer")
        .prefetch_related("contacts", "colleagues")
    )
    meetings = {m.uid: m for m in restrict(mine, user=user)}
    links = {link.meeting_id: link for link in row.events.all()}
    server = _server_events(calendar)

    for uid, meeting in meetings.items():
        link = links.get(meeting.pk)
        obj = server.get(uid)
        if link is not None and obj is None and link.etag != GONE:
            obj = _fetch(calendar, link.href)
            if obj is None:  # deleted on the server: cancelled there
                if not meeting.is_cancelled and can(user, Action.CHANGE, meeting):
                    meeting = meeting_cancel(acting_user=user, meeting=meeting)
                    stats.cancelled += 1
                _record(row, meeting, href=link.href, etag=GONE)
                continue
        if link is not None and link.etag == GONE:
            continue
        if link is None and obj is None:
            if meeting.is_cancelled:
                continue  # never on this calendar: nothing to cancel there
            _push(row, calendar, meeting, href=None)
            stats.pushed += 1
            continue
        assert obj is not None
        if link is None:  # on the server already (a lost link, or created there): adopt it
            link = _record(row, meeting, href=str(obj.url), etag="", sequence=_server_sequence(obj))
        if meeting.sequence > link.sequence:
            _push(row, calendar, meeting, href=str(obj.url))
            stats.pushed += 1
        elif _fingerprint(obj) != link.etag:
            meeting = _pull(row, meeting, obj, update=meeting_update, cancel=meeting_cancel, stats=stats)
            _record(row, meeting, href=str(obj.url), etag=_fingerprint(obj))

    for uid, obj in server.items():
        known = uid in meetings or Meeting.objects.filter(uid=uid).exists()
        if not known and _create_from_server(row, uid, obj) is not None:
            stats.created += 1
    return stats


def _server_sequence(obj: Any) -> int:
    event = ical.parse_event(obj.data)
    return int(event.get("sequence", 0)) if event is not None else 0


def _fetch(calendar: Calendar, href: str) -> Any | None:
    try:
        obj = calendar.event_by_url(href)
        obj.load()
    except NotFoundError:
        return None
    return obj


def _record(row: CalDavSettings, meeting: Meeting, *, href: str, etag: str, sequence: int | None = None) -> CalDavEvent:
    link, _created = CalDavEvent.objects.update_or_create(
        calendar=row,
        meeting=meeting,
        defaults={"href": href, "etag": etag, "sequence": meeting.sequence if sequence is None else sequence},
    )
    return link


def _push(row: CalDavSettings, calendar: Calendar, meeting: Meeting, *, href: str | None) -> None:
    data = ical.caldav_document(meeting)
    obj: Any
    if href is None:
        obj = calendar.save_event(data)
    else:
        obj = CalDavObject(client=calendar.client, url=href, data=data, parent=calendar)
        obj.save(increase_seqno=False)  # the SEQUENCE is Tandem's revision, not the library's
    saved = _fetch(calendar, str(obj.url)) or obj
    _record(row, meeting, href=str(obj.url), etag=_fingerprint(saved))


def _pull(row: CalDavSettings, meeting: Meeting, obj: Any, *, update: Any, cancel: Any, stats: SyncStats) -> Meeting:
    event = ical.parse_event(obj.data)
    if event is None or not can(row.user, Action.CHANGE, meeting) or meeting.is_cancelled:
        return meeting
    if str(event.get("status", "")).upper() == "CANCELLED":
        stats.cancelled += 1
        cancelled: Meeting = cancel(acting_user=row.user, meeting=meeting)
        return cancelled
    starts_at, ends_at = ical.event_times(event)
    data: dict[str, Any] = {"starts_at": starts_at, "ends_at": ends_at}
    if event.get("summary"):
        data["title"] = str(event.get("summary"))[:300]
    if event.get("location") is not None and str(event.get("location")) != (meeting.location or meeting.video_url):
        data["location"] = str(event.get("location"))[:300]
    before = meeting.sequence
    moved: Meeting = update(acting_user=row.user, meeting=meeting, data=data)
    if moved.sequence != before:
        stats.pulled += 1
    return moved


def _create_from_server(row: CalDavSettings, uid: str, obj: Any) -> Meeting | None:
    """An event made on the server with a customer contact among its attendees becomes a meeting."""
    from tandem.meetings.services import meeting_schedule

    event = ical.parse_event(obj.data)
    if event is None or str(event.get("status", "")).upper() == "CANCELLED":
        return None
    raw = event.get("attendee") or []
    emails = [
        str(a).removeprefix("mailto:").removeprefix("MAILTO:").lower()
        for a in (raw if isinstance(raw, list) else [raw])
    ]
    if not emails:
        return None
    contacts = list(
        restrict(Contact.objects.select_related("account"), user=row.user, action=Action.CHANGE).filter(
            email__in=emails, still_at_company=True
        )
    )
    if not contacts:
        return None
    account = contacts[0].account
    starts_at, ends_at = ical.event_times(event)
    if ends_at <= starts_at:
        ends_at = starts_at + dt.timedelta(hours=1)
    meeting = meeting_schedule(
        acting_user=row.user,
        account=account,
        kind=MeetingKind.CHECK_IN,
        title=str(event.get("summary") or account.name)[:300],
        starts_at=starts_at,
        ends_at=ends_at,
        location=str(event.get("location") or "")[:300],
        agenda=str(event.get("description") or ""),
        contacts=[c for c in contacts if c.account_id == account.pk],
        uid=uid,
    )
    _record(row, meeting, href=str(obj.url), etag=_fingerprint(obj))
    return meeting
