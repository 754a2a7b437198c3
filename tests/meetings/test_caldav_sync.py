"""Two-way sync with a real Radicale CalDAV server: create, move, cancel on either side, no duplicates."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from caldav.collection import Calendar
from django.utils import timezone

from tandem.meetings import services
from tandem.meetings.models import CalDavEvent, Meeting, MeetingKind, MeetingStatus
from tandem.meetings.sync import connect, sync_calendar
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.meetings.conftest import Radicale

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def _setup(radicale: Radicale, name: str = "ada"):
    ada = UserFactory(username=name, email=f"{name}@example.com", is_superuser=True)
    account = AccountFactory(name="Acme", csm_owner=ada)
    contact = ContactFactory(account=account, email="kim@acme.example", first_name="Kim")
    row = services.caldav_settings_save(
        acting_user=ada, user=ada, url=radicale.calendar_url(name), username="", password=""
    )
    return ada, account, contact, row


def _events(row) -> list[icalendar.Event]:
    calendar = connect(row)
    found = []
    for obj in calendar.events():
        found.extend(icalendar.Calendar.from_ical(obj.data).walk("VEVENT"))
    return found


def _schedule(ada, account, contact, *, days: int = 3) -> Meeting:
    start = (timezone.now() + dt.timedelta(days=days)).replace(microsecond=0, second=0)
    return services.meeting_schedule(
        acting_user=ada,
        account=account,
        kind=MeetingKind.QBR,
        title="Q3 business review",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        contacts=[contact],
        colleagues=[ada],
    )


def test_tandem_changes_reach_the_server_once(radicale: Radicale) -> None:
    ada, account, contact, row = _setup(radicale)
    meeting = _schedule(ada, account, contact)
    sync_calendar(row)
    sync_calendar(row)
    events = _events(row)
    assert [str(e["uid"]) for e in events] == [meeting.uid]
    assert str(events[0]["summary"]) == "Q3 business review"

    later = meeting.starts_at + dt.timedelta(days=1)
    services.meeting_update(
        acting_user=ada, meeting=meeting, data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)}
    )
    sync_calendar(row)
    sync_calendar(row)
    (event,) = _events(row)
    assert event.decoded("dtstart") == later
    assert int(event["sequence"]) == 1

    services.meeting_cancel(acting_user=ada, meeting=meeting)
    sync_calendar(row)
    (event,) = _events(row)
    assert str(event["status"]) == "CANCELLED"
    assert CalDavEvent.objects.count() == 1


def test_server_moves_and_cancellations_come_back(radicale: Radicale) -> None:
    ada, account, contact, row = _setup(radicale)
    moved = _schedule(ada, account, contact)
    deleted = _schedule(ada, account, contact, days=5)
    cancelled = _schedule(ada, account, contact, days=7)
    sync_calendar(row)

    calendar = connect(row)
    new_start = moved.starts_at + dt.timedelta(hours=2)
    obj = calendar.event_by_uid(moved.uid)
    cal = icalendar.Calendar.from_ical(obj.data)
    for event in cal.walk("VEVENT"):
        event["dtstart"] = icalendar.vDDDTypes(new_start)
        event["dtend"] = icalendar.vDDDTypes(new_start + dt.timedelta(minutes=30))
        event["sequence"] = 1
    obj.data = cal.to_ical().decode()
    obj.save()
    calendar.event_by_uid(deleted.uid).delete()
    obj = calendar.event_by_uid(cancelled.uid)
    cal = icalendar.Calendar.from_ical(obj.data)
    for event in cal.walk("VEVENT"):
        event["status"] = "CANCELLED"
    obj.data = cal.to_ical().decode()
    obj.save()

    stats = sync_calendar(row)
    assert (stats.pulled, stats.cancelled) == (1, 2)
    moved.refresh_from_db()
    assert (moved.starts_at, moved.ends_at) == (new_start, new_start + dt.timedelta(minutes=30))
    assert Meeting.objects.get(pk=deleted.pk).status == MeetingStatus.CANCELLED
    assert Meeting.objects.get(pk=cancelled.pk).status == MeetingStatus.CANCELLED

    again = sync_calendar(row)  # nothing new either way
    assert (again.pushed, again.pulled, again.cancelled, again.created) == (0, 0, 0, 0)
    assert Meeting.objects.count() == 3
    assert sorted(str(e["uid"]) for e in _events(row)) == sorted([moved.uid, cancelled.uid])


def test_an_event_made_on_the_server_with_a_contact_becomes_a_meeting(radicale: Radicale) -> None:
    _ada, account, contact, row = _setup(radicale)
    start = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0, second=0)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//EN")
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", "made-on-the-phone@example.com")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(hours=1))
    event.add("summary", "Check-in with Kim")
    event.add("attendee", "mailto:kim@acme.example")
    cal.add_component(event)
    connect(row).save_event(cal.to_ical().decode())
    # A private event without customers stays private.
    private = icalendar.Calendar.from_ical(cal.to_ical())
    for e in private.walk("VEVENT"):
        e["uid"] = "dentist@example.com"
        e["summary"] = "Dentist"
        del e["attendee"]
    connect(row).save_event(private.to_ical().decode())

    assert sync_calendar(row).created == 1
    assert sync_calendar(row).created == 0
    meeting = Meeting.objects.get()
    assert (meeting.uid, meeting.account, list(meeting.contacts.all())) == (
        "made-on-the-phone@example.com",
        account,
        [contact],
    )
    assert len(_events(row)) == 2  # nothing pushed twice


def test_a_lost_link_is_matched_on_uid_not_duplicated(radicale: Radicale) -> None:
    ada, account, contact, row = _setup(radicale)
    meeting = _schedule(ada, account, contact)
    sync_calendar(row)
    CalDavEvent.objects.all().delete()
    sync_calendar(row)
    assert [str(e["uid"]) for e in _events(row)] == [meeting.uid]
    assert isinstance(connect(row), Calendar)
