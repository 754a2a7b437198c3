"""Notify users: the in-app row first, then email / Slack delivery as idempotent background jobs.

Outbound delivery is at most once: a job marks the notification as sent (and commits) before it
talks to the SMTP server or the webhook, and clears the mark again only when the send fails with an
error. A worker killed between the mark and the send therefore loses that one delivery instead of
sending it twice on restart; the in-app notification is always there.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tandem.audit.context import write_service
from tandem.core.bulk import db_value, insert_rows
from tandem.jobs.services import job_enqueue_many
from tandem.notifications.delivery import post_webhook, send_mail_smtp, smtp_configured
from tandem.notifications.messages import Message, as_json, as_text
from tandem.notifications.models import DigestLog, Notification, NotificationPreference
from tandem.users.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationDraft:
    """A notification to create; a :class:`Message` title or body is rendered in each reader's language."""

    user_id: int
    key: str
    title: Message | str
    body: Message | str = ""
    url: str = ""


NOTIFICATION_FIELDS = ("user_id", "key", "title", "body", "title_message", "body_message", "url", "created_at")


def notifications_send(*, drafts: list[NotificationDraft]) -> int:
    """Create in-app notifications in bulk (skipping keys a user already has) and queue their delivery.

    Rows go in with a few multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements, so
    only the notifications inserted now get a delivery job. Returns how many were created.
    """
    if not drafts:
        return 0
    now = db_value(Notification, "created_at", timezone.now())
    with translation.override(settings.LANGUAGE_CODE):  # the stored fallback text
        rows = [
            (
                d.user_id,
                d.key[:200],
                as_text(d.title)[:300],
                as_text(d.body),
                json.dumps(as_json(d.title)),
                json.dumps(as_json(d.body)),
                d.url,
                now,
            )
            for d in drafts
        ]
    inserted = insert_rows(
        model=Notification,
        fields=NOTIFICATION_FIELDS,
        rows=rows,
        returning=("user_id", "key"),
        ignore_conflicts=True,
    )
    user_ids = {user_id for user_id, _key in inserted}
    outbound = set(
        NotificationPreference.objects.filter(user_id__in=user_ids)
        .exclude(email=False, slack_webhook_url="")
        .values_list("user_id", flat=True)
    )
    job_enqueue_many(
        jobs=[
            ("notifications.deliver", {"user_id": user_id, "key": key}, f"notify:{user_id}:{key}"[:200])
            for user_id, key in inserted
            if user_id in outbound
        ]
    )
    return len(inserted)


def notification_deliver(*, user_id: int, key: str) -> dict[str, bool]:
    """Email and/or post one notification per the user's preferences; each channel at most once."""
    pref = NotificationPreference.objects.filter(user_id=user_id).first()
    sent = {"email": False, "slack": False}
    if pref is None:
        return sent
    notification = Notification.objects.filter(user_id=user_id, key=key).select_related("user").first()
    if notification is None:
        return sent
    with translation.override(notification.user.preferred_language or settings.LANGUAGE_CODE):
        title, body = notification.display_title, notification.display_body
    text = title + (f"\n\n{body}" if body else "")
    link = _absolute(notification.url)
    if link:
        text += f"\n{link}"
    if pref.email and notification.user.email and smtp_configured() and _mark(notification.pk, "emailed_at"):
        try:
            send_mail_smtp(to=[notification.user.email], subject=title, body=text)
        except Exception:
            _unmark(notification.pk, "emailed_at")
            raise
        sent["email"] = True
    if pref.slack_webhook_url and _mark(notification.pk, "slack_sent_at"):
        try:
            post_webhook(url=pref.slack_webhook_url, text=text)
        except Exception:
            _unmark(notification.pk, "slack_sent_at")
            raise
        sent["slack"] = True
    return sent


def _absolute(url: str) -> str:
    if not url or url.startswith("http"):
        return url
    base = settings.TANDEM_BASE_URL.rstrip("/")
    return f"{base}{url}" if base else ""


def _mark(notification_id: int, field: str) -> bool:
    """Claim a channel: True for exactly one caller, committed before anything is sent."""
    with transaction.atomic():
        return bool(
            Notification.objects.filter(pk=notification_id, **{f"{field}__isnull": True}).update(
                **{field: timezone.now()}
            )
        )


def _unmark(notification_id: int, field: str) -> None:
    Notification.objects.filter(pk=notification_id).update(**{field: None})


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark some (or all) of a user's unread notifications read; returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


@write_service
def preference_update(
    *, acting_user: User | None, user: User, email: bool, slack_webhook_url: str, daily_digest: bool
) -> NotificationPreference:
    """Save a user's delivery preferences (``user``'s, changed by ``acting_user``)."""
    from tandem.core.services import model_save, model_validate

    pref, _created = NotificationPreference.objects.get_or_create(user=user)
    pref.email, pref.slack_webhook_url, pref.daily_digest = email, slack_webhook_url.strip(), daily_digest
    message = _("Invalid notification preferences.")
    model_validate(pref, message=message, exclude=["user"])
    model_save(pref, message=message)
    return pref


@dataclass(frozen=True)
class DigestsQueued:
    """What ``digests_enqueue`` did: users who want a digest of ``day``, and jobs newly queued for them."""

    day: dt.date
    users: int
    queued: int


def digests_enqueue(*, day: dt.date) -> DigestsQueued:
    """Queue one digest job per user who wants one (and has an email address) for ``day``.

    Idempotent: each job is keyed ``digest:<user>:<day>``, so a second call queues nothing.
    """
    opted_out = set(NotificationPreference.objects.filter(daily_digest=False).values_list("user_id", flat=True))
    users = User.objects.filter(is_active=True).exclude(email="").exclude(pk__in=opted_out).values_list("pk", flat=True)
    jobs: list[tuple[str, dict[str, Any], str | None]] = [
        ("notifications.digest", {"user_id": pk, "day": day.isoformat()}, f"digest:{pk}:{day}") for pk in users
    ]
    return DigestsQueued(day=day, users=len(jobs), queued=job_enqueue_many(jobs=jobs))


def digest_send(*, user_id: int, day: dt.date) -> bool:
    """Mail one user's daily digest (their queue for the day); at most once per user and day."""
    from tandem.playbooks.selectors import queue_summary

    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email or not smtp_configured():
        return False
    summary = queue_summary(user=user, today=day, limit=10)
    if not summary.total:
        return False
    with transaction.atomic():
        digest, _created = DigestLog.objects.get_or_create(user=user, day=day)
        claimed = DigestLog.objects.filter(pk=digest.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), items=summary.total
        )
    if not claimed:
        return False
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject, body = _digest_text(summary=summary, day=day)
    try:
        send_mail_smtp(to=[user.email], subject=subject, body=body)
    except Exception:
        DigestLog.objects.filter(pk=digest.pk).update(sent_at=None)
        raise
    return True


def _digest_text(*, summary: Any, day: dt.date) -> tuple[str, str]:
    """Subject and body of a digest, in the active language (the recipient's)."""
    lines = [
        ngettext(
            "You have %(n)d open call to action (%(overdue)d overdue).",
            "You have %(n)d open calls to action (%(overdue)d overdue).",
            summary.total,
        )
        % {"n": summary.total, "overdue": summary.overdue},
        "",
    ]
    for cta in summary.top:
        lines.append(f"- [{cta.get_priority_display()}] {cta.account.name}: {cta.title} ({cta.due_date})")
    link = _absolute("/playbooks/my-day/")
    if link:
        lines += ["", link]
    return _("Your day in Tandem: %(day)s") % {"day": day}, "\n".join(lines)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
