"""iCalendar (RFC 5545) documents built with the ``icalendar`` library: invitations, CalDAV events, the feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tandem.meetings.models import Meeting
from tandem.playbooks.models import CtaTask

PRODID = "-//Tandem//Meetings//EN"


def _calendar(method: str | None = None) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    return cal


def _link(path: str) -> str:
    base = settings.TANDEM_BASE_URL.rstrip("/")
    return f"{base}{path}" if base else ""


def meeting_event(meeting: Meeting, *, cancelled: bool | None = None) -> icalendar.Event:
    """The VEVENT of a meeting: the same UID forever, SEQUENCE = the meeting's revision."""
    cancelled = meeting.is_cancelled if cancelled is None else cancelled
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", meeting.title)
    description = meeting.agenda
    link = _link(reverse("meetings:detail", args=[meeting.pk]))
    if meeting.video_url:
        description = f"{description}\n\n{meeting.video_url}".strip()
    if description:
        event.add("description", description)
    if meeting.location or meeting.video_url:
        event.add("location", meeting.location or meeting.video_url)
    if link:
        event.add("url", link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("categories", [meeting.get_kind_display()])
    organizer = meeting.organizer
    from_address = settings.TANDEM_SMTP_FROM
    org = icalendar.vCalAddress(f"mailto:{organizer.email if organizer and organizer.email else from_address}")
    if organizer:
        org.params["cn"] = icalendar.vText(organizer.get_full_name() or organizer.username)
    event.add("organizer", org)
    for name, email in attendees(meeting):
        attendee = icalendar.vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = icalendar.vText(name)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        attendee.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", attendee)
    return event


def attendees(meeting: Meeting) -> list[tuple[str, str]]:
    """(name, email) of every contact and colleague who has an address, each address once."""
    seen: set[str] = set()
    people: list[tuple[str, str]] = []
    for contact in meeting.contacts.all():
        if contact.email and contact.email.lower() not in seen:
            seen.add(contact.email.lower())
            people.append((contact.full_name or contact.email, contact.email))
    for user in meeting.colleagues.all():
        if user.email and user.email.lower() not in seen:
            seen.add(user.email.lower())
            people.append((user.get_full_name() or user.username, user.email))
    return people


def invitation(meeting: Meeting) -> bytes:
    """METHOD:REQUEST for a scheduled meeting (an update has a higher SEQUENCE), METHOD:CANCEL once cancelled."""
    cal = _calendar("CANCEL" if meeting.is_cancelled else "REQUEST")
    cal.add_component(meeting_event(meeting))
    return cal.to_ical()


def caldav_document(meeting: Meeting) -> str:
    """The calendar object stored on a CalDAV server (no METHOD: RFC 4791 forbids it there)."""
    cal = _calendar()
    cal.add_component(meeting_event(meeting))
    return cal.to_ical().decode()


def feed(*, meetings: Iterable[Meeting], tasks: Iterable[CtaTask], name: str) -> bytes:
    """A user's feed: their meetings as VEVENTs and their due CTA tasks as VTODOs."""
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", name)
    for meeting in meetings:
        cal.add_component(meeting_event(meeting))
    now = timezone.now()
    for task in tasks:
        todo = icalendar.Todo()
        todo.add("uid", f"cta-task-{task.pk}@tandem")
        todo.add("dtstamp", now)
        todo.add("summary", f"{task.title} — {task.cta.account.name}")
        todo.add("due", task.due_date)
        todo.add("status", "NEEDS-ACTION")
        link = _link(reverse("playbooks:cta", args=[task.cta_id]))
        if link:
            todo.add("url", link)
        cal.add_component(todo)
    return cal.to_ical()


def parse_event(data: str | bytes) -> icalendar.Event | None:
    """The first VEVENT of a calendar object, or None."""
    cal = icalendar.Calendar.from_ical(data)
    for component in cal.walk("VEVENT"):
        if isinstance(component, icalendar.Event):
            return component
    return None


def event_times(event: icalendar.Event) -> tuple[dt.datetime, dt.datetime]:
    """DTSTART and DTEND (or DTSTART + DURATION) as aware datetimes."""
    start = event.decoded("dtstart")
    if "dtend" in event:
        end = event.decoded("dtend")
    elif "duration" in event:
        end = start + event.decoded("duration")
    else:
        end = start + dt.timedelta(hours=1)
    return _aware(start), _aware(end)


def _aware(value: dt.date | dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(9, 0))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value
