"""Reads for NPS responses."""

from __future__ import annotations

from django.db.models import QuerySet

from tandem.surveys.models import NpsResponse


def nps_response_list(*, account_id: int | None = None, max_score: int | None = None) -> QuerySet[NpsResponse]:
    qs = NpsResponse.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if max_score is not None:
        qs = qs.filter(score__lte=max_score)
    return qs.order_by("-responded_at", "-id")
