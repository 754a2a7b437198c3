"""Writes for NPS responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.errors import FieldError
from tandem.core.services import blank_to_none, model_save, model_validate
from tandem.surveys.models import NpsResponse
from tandem.users.models import User


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
    return response


@write_service
def nps_response_bulk_create(*, acting_user: User | None, responses: Sequence[NpsResponse], now: dt.datetime) -> None:
    """Record many answers at once (an import from the survey tool, the demo), with their audit entries."""
    bulk_save(
        NpsResponse, creates=responses, updates=[], fields=[], now=now, describe=lambda r: f"{r.account_id} {r.score}"
    )
