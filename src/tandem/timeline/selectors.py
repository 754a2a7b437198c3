"""Reads on the timeline of interactions."""

from __future__ import annotations

from tandem.timeline.models import Interaction


def account_timeline(*, account_id: int, limit: int = 20) -> list[Interaction]:
    """The most recent interactions on an account, with who logged them and who took part."""
    return list(
        Interaction.objects.filter(account_id=account_id)
        .select_related("author")
        .prefetch_related("contacts")
        .order_by("-occurred_at", "-id")[:limit]
    )
