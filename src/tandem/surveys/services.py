"""Writes for NPS responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.bulk import fetch_in_chunks
from tandem.core.errors import FieldError
from tandem.core.services import blank_to_none, model_save, model_validate
from tandem.surveys.models import NpsResponse
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.users.models import User

SURVEY = "nps"  # the survey a response answers, as its timeline event names it


def _answered(response: NpsResponse, *, actor_id: int | None) -> events.Event:
    return events.Event(
        account_id=response.account_id,
        kind=EventKind.SURVEY_ANSWERED,
        occurred_at=response.responded_at,
        actor_id=actor_id,
        contact_id=response.contact_id,
        target=response,
        data={"score": response.score, "comment": response.comment, "survey": SURVEY},
    )


@write_service
def nps_response_create(
    *,
    acting_user: User | None,
    account: Account,
    score: int,
    responded_at: dt.datetime,
    contact: Contact | None = None,
    comment: str = "",
    external_id: str | None = None,
) -> NpsResponse:
    """Record an NPS answer; the contact, when given, must belong to the account."""
    response = NpsResponse(
        account=account,
        contact=contact,
        score=score,
        comment=comment or "",
        responded_at=responded_at,
        external_id=blank_to_none(external_id),
    )
    extra = []
    if contact is not None and contact.account_id != account.pk:
        extra.append(FieldError("contact", _("The contact does not belong to this account.")))
    message = _("Invalid NPS response.")
    model_validate(response, message=message, extra_errors=extra)
    model_save(response, message=message)
    events.record_many([_answered(response, actor_id=acting_user.pk if acting_user is not None else None)])
    return response


@write_service
def nps_response_bulk_create(*, acting_user: User | None, responses: Sequence[NpsResponse], now: dt.datetime) -> int:
    """Record many answers at once (an import from the survey tool, the demo), with their audit
    entries and each one's timeline event at the time it was answered.

    A response whose external_id is already stored is the same answer imported again: it is left
    alone (neither written twice nor put on the timeline twice).
    """
    keys = [r.external_id for r in responses if r.external_id]
    seen = {v["external_id"] for v in fetch_in_chunks(NpsResponse.objects.all(), "external_id", keys, "external_id")}
    new: list[NpsResponse] = []
    for response in responses:
        if response.external_id:
            if response.external_id in seen:
                continue
            seen.add(response.external_id)
        new.append(response)
    bulk_save(NpsResponse, creates=new, updates=[], fields=[], now=now, describe=lambda r: f"{r.account_id} {r.score}")
    actor_id = acting_user.pk if acting_user is not None else None
    events.record_many(_answered(r, actor_id=actor_id) for r in new)
    return len(new)
