"""What a meeting change queues for the worker (tandem.jobs): invitation mail, reminder, CalDAV sync."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from tandem.jobs.models import Job, JobStatus
from tandem.jobs.services import job_enqueue
from tandem.meetings.models import CalDavSettings, Meeting


def reminder_lead() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "TANDEM_MEETING_REMINDER_MINUTES", 30)))


def sync_interval() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "TANDEM_CALDAV_SYNC_MINUTES", 15)))


def after_change(meeting: Meeting) -> None:
    """Queue the invitation of this revision, move the reminder, and sync the attendees' calendars."""
    job_enqueue(
        name="meetings.invite",
        payload={"meeting_id": meeting.pk, "sequence": meeting.sequence},
        key=f"meeting-invite:{meeting.pk}:{meeting.sequence}",
    )
    # The reminder of an earlier revision is dropped; the job also checks the revision when it runs.
    Job.objects.filter(
        name="meetings.remind", status=JobStatus.QUEUED, key__startswith=f"meeting-remind:{meeting.pk}:"
    ).delete()
    now = timezone.now()
    if not meeting.is_cancelled and meeting.starts_at > now:
        job_enqueue(
            name="meetings.remind",
            payload={"meeting_id": meeting.pk, "sequence": meeting.sequence},
            key=f"meeting-remind:{meeting.pk}:{meeting.sequence}",
            run_after=max(now, meeting.starts_at - reminder_lead()),
        )
    people = {u.pk for u in meeting.colleagues.all()}
    if meeting.organizer_id:
        people.add(meeting.organizer_id)
    for settings_id in CalDavSettings.objects.filter(user_id__in=people, enabled=True).values_list("pk", flat=True):
        enqueue_sync(settings_id)


def enqueue_sync(settings_id: int) -> None:
    """A sync now (for a change); the periodic one is queued by each sync for the next slot."""
    job_enqueue(name="meetings.caldav_sync", payload={"settings_id": settings_id})


def enqueue_next_periodic_sync(settings_id: int) -> None:
    interval = sync_interval()
    slot = int(timezone.now().timestamp() // interval.total_seconds()) + 1
    job_enqueue(
        name="meetings.caldav_sync",
        payload={"settings_id": settings_id},
        key=f"caldav-sync:{settings_id}:{slot}",
        run_after=dt.datetime.fromtimestamp(slot * interval.total_seconds(), tz=dt.UTC),
    )
