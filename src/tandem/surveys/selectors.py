"""Reads for NPS responses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tandem.access.scoping import restrict
from tandem.surveys.models import NpsResponse

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User


def nps_response_list(
    *, user: User | AnonymousUser, account_id: int | None = None, max_score: int | None = None
) -> QuerySet[NpsResponse]:
    """NPS answers this person may see, newest first: the REST API's list and the account report's."""
    qs = restrict(NpsResponse.objects.all(), user=user)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if max_score is not None:
        qs = qs.filter(score__lte=max_score)
    return qs.order_by("-responded_at", "-id")
