"""Reads for success milestones."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from tandem.success.models import SuccessMilestone


def account_milestones(*, account_id: int) -> QuerySet[SuccessMilestone]:
    return SuccessMilestone.objects.filter(account_id=account_id).select_related("owner").order_by("due_date", "id")


def milestones_overdue(*, today: dt.date) -> QuerySet[SuccessMilestone]:
    return SuccessMilestone.objects.filter(completed_at__isnull=True, due_date__lt=today)
