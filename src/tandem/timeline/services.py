"""Writes on the timeline: interactions with the team members and contacts who took part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tandem.accounts.models import Account, Contact
from tandem.audit.context import write_service
from tandem.core.errors import FieldError
from tandem.core.services import blank_to_none, model_assign, model_save, model_validate
from tandem.timeline.models import Interaction
from tandem.users.models import User

INTERACTION_FIELDS = (
    "account",
    "external_id",
    "kind",
    "occurred_at",
    "subject",
    "summary",
    "duration_minutes",
    "author",
)


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    if "external_id" in data:
        data["external_id"] = blank_to_none(data["external_id"])
    if isinstance(data.get("subject"), str):
        data["subject"] = data["subject"].strip()
    return data


def _foreign_contact_errors(account_id: int | None, contacts: Iterable[Contact]) -> list[FieldError]:
    foreign = sorted(c.pk for c in contacts if c.account_id != account_id)
    if not foreign:
        return []
    return [
        FieldError(
            "contacts",
            ngettext(
                "Contact %(ids)s belongs to another account.",
                "Contacts %(ids)s belong to another account.",
                len(foreign),
            )
            % {"ids": ", ".join(str(pk) for pk in foreign)},
        )
    ]


def _save_interaction(interaction: Interaction, *, contacts: Iterable[Contact]) -> None:
    message = _("Invalid interaction.")
    extra = _foreign_contact_errors(interaction.account_id, contacts)
    model_validate(interaction, message=message, extra_errors=extra)
    model_save(interaction, message=message)


@write_service
def interaction_create(
    *,
    acting_user: User | None,
    account: Account,
    kind: str,
    occurred_at: dt.datetime,
    subject: str = "",
    summary: str = "",
    duration_minutes: int | None = None,
    external_id: str | None = None,
    author: User | None = None,
    users: Sequence[User] = (),
    contacts: Sequence[Contact] = (),
) -> Interaction:
    """Log a call, meeting, note... on an account's timeline; its contacts must be the account's."""
    interaction = Interaction()
    model_assign(
        interaction,
        data=_normalise(
            {
                "account": account,
                "external_id": external_id,
                "kind": kind,
                "occurred_at": occurred_at,
                "subject": subject,
                "summary": summary,
                "duration_minutes": duration_minutes,
                "author": author,
            }
        ),
        fields=INTERACTION_FIELDS,
    )
    _save_interaction(interaction, contacts=contacts)
    interaction.users.set(users)
    interaction.contacts.set(contacts)
    return interaction


@write_service
def interaction_update(
    *,
    acting_user: User | None,
    interaction: Interaction,
    data: Mapping[str, Any],
    users: Sequence[User] | None = None,
    contacts: Sequence[Contact] | None = None,
) -> Interaction:
    """Change an interaction; ``users`` and ``contacts``, when given, replace who took part."""
    changed = model_assign(interaction, data=_normalise(dict(data)), fields=INTERACTION_FIELDS)
    if changed or contacts is not None:
        kept = contacts if contacts is not None else list(interaction.contacts.all())
        _save_interaction(interaction, contacts=kept)
    if users is not None:
        interaction.users.set(users)
    if contacts is not None:
        interaction.contacts.set(contacts)
    return interaction


@write_service
def interaction_delete(*, acting_user: User | None, interaction: Interaction) -> None:
    """Delete an interaction from the timeline."""
    interaction.delete()
