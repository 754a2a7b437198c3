"""Scheduling from the account page, moving, cancelling, notes on the timeline, the feed; the invitations by SMTP."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.core.cache import cache
from django.utils import timezone

from tandem.jobs.models import Job, JobStatus
from tandem.meetings.models import CalendarFeed, Meeting, MeetingStatus
from tandem.playbooks.models import CallToAction, CtaTask, CtaType
from tandem.timeline.models import Interaction, InteractionKind
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture
from tests.meetings.conftest import run_due_jobs
from tests.playbooks.conftest import Inbox

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()


def _user(username: str, role: str):
    with as_fixture():
        return user_create(
            acting_user=None, username=username, password=None, roles=[role], email=f"{username}@tandem.test"
        )


@pytest.fixture
def csm():
    return _user("casey", "csm")


@pytest.fixture
def account(csm):
    with as_fixture():
        return AccountFactory(name="Acme", csm_owner=csm)


@pytest.fixture
def kim(account):
    with as_fixture():
        return ContactFactory(account=account, first_name="Kim", last_name="Lee", email="kim@acme.example")


def _form(kim, csm, start: dt.datetime, **extra) -> dict:
    return {
        "kind": "qbr",
        "title": "Q3 business review",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Room 4",
        "video_url": "https://meet.example.com/q3",
        "agenda": "Adoption, roadmap",
        "contacts": [kim.pk],
        "colleagues": [csm.pk],
        **extra,
    }


def _ics(message) -> icalendar.Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def test_schedule_move_cancel_sends_request_update_and_cancel(client, csm, account, kim, smtp: Inbox) -> None:
    client.force_login(csm)
    section = client.get(f"/meetings/accounts/{account.pk}/section/")
    assert b"Schedule meeting" in section.content
    start = timezone.localtime().replace(second=0, microsecond=0) + dt.timedelta(days=2)
    response = client.post(f"/meetings/accounts/{account.pk}/new/", _form(kim, csm, start))
    assert response.status_code == 302, response.content.decode()
    meeting = Meeting.objects.get()
    assert (meeting.organizer, list(meeting.contacts.all()), meeting.sequence) == (csm, [kim], 0)
    reminder = Job.objects.get(name="meetings.remind")
    assert reminder.run_after == meeting.starts_at - dt.timedelta(minutes=30)

    later = start + dt.timedelta(days=1)
    assert client.post(f"/meetings/{meeting.pk}/edit/", _form(kim, csm, later)).status_code == 302
    meeting.refresh_from_db()
    assert meeting.sequence == 1
    # The first reminder is dropped, the new one waits for the new time.
    (reminder,) = Job.objects.filter(name="meetings.remind", status=JobStatus.QUEUED)
    assert reminder.run_after == meeting.starts_at - dt.timedelta(minutes=30)

    assert client.post(f"/meetings/{meeting.pk}/cancel/").status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert not Job.objects.filter(name="meetings.remind", status=JobStatus.QUEUED).exists()

    run_due_jobs()
    # Only the latest revision's mail leaves: the earlier ones were superseded before the worker ran.
    (message,) = smtp.messages
    assert message["Subject"] == "Cancelled: Q3 business review"
    assert sorted(message["To"].split(", ")) == ["casey@tandem.test", "kim@acme.example"]
    cal = _ics(message)
    (event,) = cal.walk("VEVENT")
    assert (str(cal["method"]), int(event["sequence"]), str(event["uid"])) == ("CANCEL", 2, meeting.uid)


def test_each_revision_mailed_when_the_worker_keeps_up(csm, account, kim, smtp: Inbox) -> None:
    from tandem.meetings import services

    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    with as_fixture():
        meeting = services.meeting_schedule(
            acting_user=csm,
            account=account,
            kind="check_in",
            title="Check-in",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=30),
            contacts=[kim],
        )
    run_due_jobs()
    with as_fixture():
        services.meeting_update(
            acting_user=csm,
            meeting=meeting,
            data={"starts_at": start + dt.timedelta(hours=1), "ends_at": start + dt.timedelta(hours=2)},
        )
    run_due_jobs()
    first, second = (_ics(m) for m in smtp.messages)
    assert [str(c["method"]) for c in (first, second)] == ["REQUEST", "REQUEST"]
    (a,), (b,) = first.walk("VEVENT"), second.walk("VEVENT")
    assert (str(a["uid"]), int(a["sequence"])) == (str(b["uid"]), 0)
    assert int(b["sequence"]) == 1
    assert b.decoded("dtstart") == start + dt.timedelta(hours=1)
    assert smtp.messages[1]["Subject"] == "Updated invitation: Check-in"


def test_invitations_wait_while_smtp_is_not_configured(csm, account, kim, settings) -> None:
    from tandem.meetings import services

    settings.TANDEM_SMTP_HOST = ""
    start = timezone.now() + dt.timedelta(days=3)
    with as_fixture():
        services.meeting_schedule(
            acting_user=csm,
            account=account,
            kind="qbr",
            title="QBR",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            contacts=[kim],
        )
    assert run_due_jobs() == (0, 1)
    job = Job.objects.get(name="meetings.invite")
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)


def test_notes_go_on_the_timeline_with_the_people(client, csm, account, kim) -> None:
    from tandem.meetings import services

    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    with as_fixture():
        meeting = services.meeting_schedule(
            acting_user=csm,
            account=account,
            kind="onboarding",
            title="Kick-off",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=45),
            contacts=[kim],
            colleagues=[csm],
        )
    client.force_login(csm)
    assert client.post(f"/meetings/{meeting.pk}/notes/", {"summary": "Agreed on the rollout"}).status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.summary, interaction.duration_minutes) == (
        InteractionKind.MEETING,
        "Agreed on the rollout",
        45,
    )
    assert (list(interaction.contacts.all()), list(interaction.users.all())) == ([kim], [csm])
    assert client.post(f"/meetings/{meeting.pk}/notes/", {"summary": "Rollout in May"}).status_code == 302
    assert Interaction.objects.get().summary == "Rollout in May"  # the same entry, not a second one
    assert b"Rollout in May" in client.get(f"/accounts/{account.pk}/").content


def test_read_only_sees_meetings_but_no_forms(client, csm, account, kim) -> None:
    from tandem.meetings import services

    reader = _user("rita", "read_only")
    start = timezone.now() + dt.timedelta(days=1)
    with as_fixture():
        meeting = services.meeting_schedule(
            acting_user=csm,
            account=account,
            kind="qbr",
            title="QBR",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
    client.force_login(reader)
    section = client.get(f"/meetings/accounts/{account.pk}/section/")
    assert section.status_code == 200 and b"QBR" in section.content
    assert b"Schedule meeting" not in section.content
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "notes-form" not in page and "meeting-actions" not in page
    assert client.get(f"/meetings/accounts/{account.pk}/new/").status_code == 403
    assert client.post(f"/meetings/{meeting.pk}/cancel/").status_code == 403


def test_the_feed_lists_meetings_and_due_tasks_and_can_be_rotated(client, csm, account, kim) -> None:
    from tandem.meetings import services

    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    today = timezone.localdate()
    with as_fixture():
        meeting = services.meeting_schedule(
            acting_user=csm,
            account=account,
            kind="ebr",
            title="Executive review",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            contacts=[kim],
        )
        cta = CallToAction.objects.create(
            account=account, type=CtaType.RISK, title="Save", owner=csm, opened_on=today, due_date=today
        )
        CtaTask.objects.create(cta=cta, position=1, title="Call the sponsor", assignee=csm, due_date=today)
    client.force_login(csm)
    assert client.post("/meetings/calendar/feed/rotate/").status_code == 302
    page = client.get("/meetings/calendar/").content.decode()
    token = CalendarFeed.objects.get(user=csm).token
    assert f"/calendar/{token}.ics" in page
    client.logout()
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    (event,) = cal.walk("VEVENT")
    (todo,) = cal.walk("VTODO")
    assert (str(event["uid"]), str(event["summary"])) == (meeting.uid, "Executive review")
    assert str(todo["summary"]) == "Call the sponsor — Acme" and todo.decoded("due") == today

    client.force_login(csm)
    client.post("/meetings/calendar/feed/rotate/")
    client.logout()
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{CalendarFeed.objects.get(user=csm).token}.ics").status_code == 200


def test_my_meetings_lists_upcoming_and_past(client, csm, account) -> None:
    from tandem.meetings import services

    now = timezone.now()
    with as_fixture():
        for title, delta in (("Soon", 1), ("Done", -3)):
            start = now + dt.timedelta(days=delta)
            services.meeting_schedule(
                acting_user=csm,
                account=account,
                kind="check_in",
                title=title,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )
    client.force_login(csm)
    upcoming = client.get("/meetings/").content.decode()
    past = client.get("/meetings/?when=past").content.decode()
    assert "Soon" in upcoming and "Done" not in upcoming
    assert "Done" in past and "Soon" not in past


def test_an_invalid_meeting_shows_errors_and_saves_nothing(client, csm, account, kim) -> None:
    client.force_login(csm)
    start = timezone.localtime() + dt.timedelta(days=1)
    data = _form(kim, csm, start, ends_at=start.strftime("%Y-%m-%dT%H:%M"))
    response = client.post(f"/meetings/accounts/{account.pk}/new/", data)
    assert response.status_code == 400
    assert b"The meeting must end after it starts." in response.content
    assert not Meeting.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize("size", [1, 4])
def test_my_meetings_query_count_does_not_grow_with_the_page(client, csm, account, kim, size: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tandem.meetings import services

    with as_fixture():
        for n in range(size):
            start = timezone.now() + dt.timedelta(days=n + 1)
            services.meeting_schedule(
                acting_user=csm,
                account=account,
                kind="check_in",
                title=f"Check-in {n}",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                contacts=[kim],
                colleagues=[csm],
            )
    client.force_login(csm)
    client.get("/meetings/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/meetings/").status_code == 200
    assert len(queries) == 6  # the same for 1 and 4 meetings: no query per row
