"""Reads of meetings, always through tandem.access."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from tandem.access.scoping import restrict
from tandem.accounts.models import Account
from tandem.meetings.models import Meeting, MeetingStatus
from tandem.playbooks.models import CtaTask, TaskStatus
from tandem.users.models import User


def meetings_of(user: User) -> QuerySet[Meeting]:
    """Meetings the user organizes or attends, that they may see."""
    qs = Meeting.objects.filter(Q(organizer=user) | Q(colleagues=user)).distinct()
    return restrict(qs, user=user).select_related("account", "organizer")


def my_meetings(*, user: User, past: bool = False) -> QuerySet[Meeting]:
    now = timezone.now()
    qs = meetings_of(user)
    if past:
        return qs.filter(ends_at__lt=now).order_by("-starts_at", "-id")
    return qs.filter(ends_at__gte=now).order_by("starts_at", "id")


def account_meetings(*, user: User, account: Account, limit: int = 5) -> list[Meeting]:
    """The account's next meetings (cancelled ones too, marked) and the last few held."""
    qs = restrict(Meeting.objects.filter(account=account), user=user).select_related("organizer")
    now = timezone.now()
    upcoming = list(qs.filter(ends_at__gte=now).order_by("starts_at", "id")[:limit])
    recent = list(qs.filter(ends_at__lt=now, status=MeetingStatus.SCHEDULED).order_by("-starts_at", "-id")[:limit])
    return upcoming + recent


def feed_items(*, user: User) -> tuple[list[Meeting], list[CtaTask]]:
    """What the user's feed shows: meetings from 60 days ago on, and their open CTA tasks."""
    since = timezone.now() - dt.timedelta(days=60)
    meetings = list(
        meetings_of(user).filter(ends_at__gte=since).prefetch_related("contacts", "colleagues").order_by("starts_at")
    )
    tasks = list(
        restrict(
            CtaTask.objects.filter(assignee=user, status=TaskStatus.PENDING).select_related("cta__account"), user=user
        ).order_by("due_date", "id")[:500]
    )
    return meetings, tasks
