"""Background jobs of meetings: the reminder, the invitation mail and the CalDAV sync. Each is idempotent."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tandem.jobs.services import JobDeferred
from tandem.meetings import ical
from tandem.meetings.models import CalDavSettings, Meeting
from tandem.notifications.delivery import smtp_configured
from tandem.notifications.messages import Message
from tandem.notifications.services import NotificationDraft, notifications_send


def remind(*, meeting_id: int, sequence: int) -> int:
    """Notify the organizer and colleagues (in-app, email, Slack per their preferences); stale revisions do nothing."""
    meeting = Meeting.objects.select_related("account").filter(pk=meeting_id).first()
    if meeting is None or meeting.is_cancelled or meeting.sequence != sequence or meeting.ends_at <= timezone.now():
        return 0
    people = set(meeting.colleagues.filter(is_active=True).values_list("pk", flat=True))
    if meeting.organizer_id:
        people.add(meeting.organizer_id)
    title = Message(gettext_noop("Meeting soon: %(title)s"), {"title": meeting.title})
    body = Message(
        gettext_noop("%(account)s, starts %(start)s."),
        {"account": meeting.account.name, "start": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M")},
    )
    url = reverse("meetings:detail", args=[meeting.pk])
    return notifications_send(
        drafts=[
            NotificationDraft(
                user_id=pk, key=f"meeting-reminder:{meeting.pk}:{sequence}", title=title, body=body, url=url
            )
            for pk in sorted(people)
        ]
    )


def invite(*, meeting_id: int, sequence: int) -> int:
    """Mail this revision's iCalendar (REQUEST or CANCEL) to every contact and colleague; returns how many."""
    meeting = Meeting.objects.select_related("account", "organizer").filter(pk=meeting_id).first()
    if meeting is None or meeting.sequence != sequence:
        return 0  # a later revision has its own job
    recipients = [email for _name, email in ical.attendees(meeting)]
    if not recipients:
        return 0
    if not smtp_configured():
        raise JobDeferred("SMTP is not configured (TANDEM_SMTP_HOST); the invitation stays queued.")
    method = "CANCEL" if meeting.is_cancelled else "REQUEST"
    with translation.override(settings.LANGUAGE_CODE):
        if meeting.is_cancelled:
            subject = _("Cancelled: %(title)s") % {"title": meeting.title}
        elif sequence:
            subject = _("Updated invitation: %(title)s") % {"title": meeting.title}
        else:
            subject = _("Invitation: %(title)s") % {"title": meeting.title}
        start = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M %Z")
        body = "\n".join(
            line
            for line in (
                meeting.title,
                _("When: %(start)s") % {"start": start},
                _("Where: %(place)s") % {"place": meeting.location} if meeting.location else "",
                meeting.video_url,
                "",
                meeting.agenda,
            )
            if line is not None
        )
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=settings.TANDEM_SMTP_HOST,
        port=settings.TANDEM_SMTP_PORT,
        username=settings.TANDEM_SMTP_USER or None,
        password=settings.TANDEM_SMTP_PASSWORD or None,
        use_tls=settings.TANDEM_SMTP_STARTTLS,
        timeout=30,
    )
    message = EmailMessage(
        subject=subject,
        body=body.strip() + "\n",
        from_email=settings.TANDEM_SMTP_FROM,
        to=recipients,
        connection=connection,
    )
    message.attach("invite.ics", ical.invitation(meeting), f"text/calendar; method={method}; charset=utf-8")
    message.send(fail_silently=False)
    return len(recipients)


def caldav_sync(*, settings_id: int) -> None:
    from tandem.meetings.sync import sync_calendar

    row = CalDavSettings.objects.select_related("user").filter(pk=settings_id, enabled=True).first()
    if row is None:
        return
    sync_calendar(row)
