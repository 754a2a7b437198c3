"""Reads for segments: the list, one segment's members and its joins and leaves."""

from __future__ import annotations

from django.db.models import QuerySet

from tandem.accounts.models import Account
from tandem.segments.models import Segment, SegmentMembership


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.order_by("name", "id")


def segment_members(*, segment: Segment, accounts: QuerySet[Account]) -> QuerySet[Account]:
    """The segment's current members among ``accounts`` (the reader's visible ones)."""
    return accounts.filter(segment_memberships__segment=segment, segment_memberships__left_on__isnull=True)


def segment_history(*, segment: Segment, accounts: QuerySet[Account], limit: int = 50) -> list[SegmentMembership]:
    """The latest joins and leaves among the reader's accounts, newest first."""
    return list(
        SegmentMembership.objects.filter(segment=segment, account__in=accounts.values("pk"))
        .select_related("account")
        .order_by("-joined_on", "-id")[:limit]
    )


def account_segments(*, account_id: int) -> list[Segment]:
    return list(
        Segment.objects.filter(memberships__account_id=account_id, memberships__left_on__isnull=True).order_by("name")
    )
