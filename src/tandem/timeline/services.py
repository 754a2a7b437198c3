"""Writes on the timeline: interactions with the team members and contacts who took part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tandem.accounts.models import Account, Contact
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core import bulk
from tandem.core.errors import DomainError, FieldError
from tandem.core.progress import Progress
from tandem.core.services import blank_to_none, model_assign, model_save, model_validate
from tandem.timeline.models import Interaction, InteractionAttachment
from tandem.users.models import User

if TYPE_CHECKING:
    from tandem.playbooks.models import CallToAction

INTERACTION_FIELDS = (
    "account",
    "external_id",
    "kind",
    "occurred_at",
    "subject",
    "summary",
    "duration_minutes",
    "author",
    "cta",
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
    if interaction.cta is not None and interaction.cta.account_id != interaction.account_id:
        extra.append(FieldError("cta", _("The call to action belongs to another account.")))
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
    cta: CallToAction | None = None,
) -> Interaction:
    """Log a call, meeting, note... on an account's timeline; its contacts must be the account's.

    ``cta``: a note written on one of the account's calls to action (shown there and on the timeline).
    """
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
                "cta": cta,
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
    if {"subject", "summary"} & set(changed or ()):
        interaction.edited_at = timezone.now()
    if changed or contacts is not None:
        kept = contacts if contacts is not None else list(interaction.contacts.all())
        _save_interaction(interaction, contacts=kept)
    if users is not None:
        interaction.users.set(users)
    if contacts is not None:
        interaction.contacts.set(contacts)
    return interaction


@write_service
def interaction_pin(*, acting_user: User | None, interaction: Interaction, pinned: bool) -> Interaction:
    """Pin an entry to the top of its account's timeline, or unpin it."""
    if pinned == (interaction.pinned_at is not None):
        return interaction
    interaction.pinned_at = timezone.now() if pinned else None
    interaction.pinned_by = acting_user if pinned else None
    interaction.save(update_fields=["pinned_at", "pinned_by", "updated_at"])
    return interaction


# Types an attachment may have, read from its bytes (the browser's claim is not trusted).
ACCEPTED_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }
)
# Text has no signature: these extensions are accepted when the file is valid UTF-8 text.
TEXT_TYPES = {".txt": "text/plain", ".csv": "text/csv", ".md": "text/markdown"}


def _attachment_type(name: str, head: bytes, whole: bytes | None) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime if kind.mime in ACCEPTED_TYPES else None
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_TYPES and whole is not None:
        try:
            text = whole.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return TEXT_TYPES[suffix] if "\x00" not in text else None
    return None


@write_service
def attachment_add(
    *, acting_user: User | None, interaction: Interaction, upload: UploadedFile
) -> InteractionAttachment:
    """Attach a file to an interaction or note, refusing one that is too large or of a type not accepted."""
    name = Path(upload.name or "file").name[:255] or "file"
    limit = settings.TANDEM_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise DomainError(
            _("Invalid attachment."),
            [
                FieldError(
                    "attachments",
                    _("%(name)s is %(size)s; the limit is %(limit)s.")
                    % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
                )
            ],
        )
    upload.seek(0)
    whole = upload.read() if size <= 1_000_000 else None
    upload.seek(0)
    head = whole[:2048] if whole is not None else upload.read(2048)
    upload.seek(0)
    content_type = _attachment_type(name, head, whole)
    if content_type is None:
        raise DomainError(
            _("Invalid attachment."),
            [
                FieldError(
                    "attachments",
                    _("%(name)s is not a file type Tandem accepts (PDF, images, office documents, text).")
                    % {"name": name},
                )
            ],
        )
    attachment = InteractionAttachment(
        interaction=interaction, filename=name, content_type=content_type, size=size, uploaded_by=acting_user
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


@write_service
def attachment_delete(*, acting_user: User | None, attachment: InteractionAttachment) -> None:
    """Remove an attachment and its file."""
    storage, path = attachment.file.storage, attachment.file.name
    attachment.delete()
    if path:
        transaction.on_commit(lambda: storage.delete(path))


@write_service
def interaction_delete(*, acting_user: User | None, interaction: Interaction) -> None:
    """Delete an interaction from the timeline."""
    interaction.delete()


@write_service
def interaction_bulk_create(
    *,
    acting_user: User | None,
    interactions: Sequence[Interaction],
    people: Sequence[tuple[Iterable[int], Iterable[int]]],
    now: dt.datetime,
    progress: Progress | None = None,
) -> None:
    """Insert interactions in batches with their audit entries, then link the people who took part.

    ``people`` pairs each interaction (same order) with the ids of the colleagues and of the
    account's contacts involved. The caller vouches that those contacts belong to the account
    (``interaction_create`` checks it one interaction at a time).
    """
    bulk_save(Interaction, creates=interactions, updates=[], fields=[], now=now, progress=progress)
    user_links = Interaction.users.through
    contact_links = Interaction.contacts.through
    pairs = list(zip(interactions, people, strict=True))
    # Plain id pairs, not link instances through bulk_create: a few microseconds a link instead of
    # about fifty (the demo writes over a million at 100,000 accounts).
    bulk.insert_rows(
        model=user_links,
        fields=("interaction", "user"),
        rows=[(i.pk, u) for i, (users, _contacts) in pairs for u in set(users)],
    )
    bulk.insert_rows(
        model=contact_links,
        fields=("interaction", "contact"),
        rows=[(i.pk, c) for i, (_users, contacts) in pairs for c in contacts],
    )
