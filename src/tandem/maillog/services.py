"""Writes of email logging: BCC addresses, receiving and parsing mail, matching it, assigning it."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.access.policies import rights_for
from tandem.accounts.models import Account, Contact
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.maillog.models import Direction, InboundMessage, LoggedEmail, MailAddress, MailAttachment
from tandem.maillog.parsing import ParsedEmail, parse_message
from tandem.maillog.selectors import match_account, token_of
from tandem.timeline.models import InteractionKind
from tandem.timeline.services import interaction_create
from tandem.users.models import User

SUMMARY_CHARS = 4000


def _new_token() -> str:
    return secrets.token_hex(8)


@write_service
def mail_address_ensure(*, acting_user: User | None, user: User) -> MailAddress:
    """The user's BCC address, created on first use."""
    address = MailAddress.objects.filter(user=user).first()
    if address is None:
        address = MailAddress.objects.create(user=user, token=_new_token())
    return address


@write_service
def mail_address_rotate(*, acting_user: User | None, user: User) -> MailAddress:
    """Give the user a new BCC address; mail to the old one is refused from now on."""
    address = MailAddress.objects.filter(user=user).first()
    if address is None:
        return MailAddress.objects.create(user=user, token=_new_token())
    address.token = _new_token()
    address.save(update_fields=["token", "updated_at"])
    return address


@write_service
def inbound_receive(*, acting_user: User | None, raw: bytes, recipients: Sequence[str], via: str) -> InboundMessage:
    """Store a message as received and queue its parsing for a worker (in the same transaction)."""
    from tandem.jobs.services import job_enqueue

    inbound = InboundMessage.objects.create(raw=raw, recipients=list(recipients), received_via=via)
    job_enqueue(name="maillog.ingest", payload={"inbound_id": inbound.pk}, key=f"maillog.ingest:{inbound.pk}")
    return inbound


@dataclass
class IngestOutcome:
    user_id: int
    email: LoggedEmail
    created: bool


def _users_for(recipients: Iterable[str]) -> list[User]:
    tokens = {t for t in (token_of(r) for r in recipients) if t}
    if not tokens:
        return []
    return [a.user for a in MailAddress.objects.filter(token__in=tokens, user__is_active=True).select_related("user")]


def _contacts_on(account: Account, email: LoggedEmail) -> list[Contact]:
    addresses = [email.from_address, *email.recipients()]
    return list(
        Contact.objects.annotate(email_lower=Lower("email"))
        .filter(account=account, email_lower__in=[a.lower() for a in addresses])
        .order_by("id")
    )


def _put_on_timeline(email: LoggedEmail, *, account: Account, contacts: Sequence[Contact]) -> None:
    email.account = account
    email.assigned_at = timezone.now()
    summary = email.text_body
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    email.interaction = interaction_create(
        acting_user=None,
        account=account,
        kind=InteractionKind.EMAIL,
        occurred_at=email.sent_at,
        subject=email.subject[:300],
        summary=summary,
        external_id=f"maillog:{email.pk}",
        author=email.user,
        users=[email.user],
        contacts=contacts,
    )
    email.save(update_fields=["account", "assigned_at", "interaction"])
    email.contacts.set(contacts)


def _store(user: User, parsed: ParsedEmail, via: str) -> IngestOutcome:
    existing = LoggedEmail.objects.filter(user=user, dedupe_key=parsed.dedupe_key).first()
    if existing is not None:
        return IngestOutcome(user.pk, existing, False)
    outbound = parsed.from_address == user.email.lower() and bool(user.email)
    email = LoggedEmail(
        user=user,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        message_id=parsed.message_id,
        dedupe_key=parsed.dedupe_key,
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to_addresses=[a for a in parsed.to if token_of(a) is None],
        cc_addresses=[a for a in parsed.cc if token_of(a) is None],
        subject=parsed.subject,
        sent_at=parsed.sent_at,
        text_body=parsed.text,
        skipped_attachments=parsed.skipped,
        received_via=via,
    )
    try:
        with transaction.atomic():
            email.save()
    except IntegrityError:  # the same message, stored by another process a moment ago
        return IngestOutcome(user.pk, LoggedEmail.objects.get(user=user, dedupe_key=parsed.dedupe_key), False)
    for attachment in parsed.attachments:
        row = MailAttachment(
            email=email,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.content),
        )
        row.file.save(attachment.filename, ContentFile(attachment.content), save=False)
        row.save()
    account, contacts = match_account(user=user, addresses=[parsed.from_address, *parsed.to, *parsed.cc])
    if account is not None:
        _put_on_timeline(email, account=account, contacts=contacts)
    return IngestOutcome(user.pk, email, True)


@write_service
def email_ingest(*, acting_user: User | None, raw: bytes, recipients: Sequence[str], via: str) -> list[IngestOutcome]:
    """Parse a message and log it for every user whose BCC address it was sent to (once per user).

    The users come from the envelope recipients, or, for mail forwarded into an IMAP mailbox, from the
    To/Cc/Bcc/Delivered-To headers. Users whose role may not change customer data log nothing.
    """
    parsed = parse_message(raw, max_attachment_bytes=settings.TANDEM_MAIL_MAX_ATTACHMENT_BYTES)
    users = _users_for(recipients) or _users_for([*parsed.to, *parsed.cc, *parsed.delivered_to])
    return [_store(user, parsed, via) for user in users if rights_for(user).can_write]


@write_service
def inbound_process(*, acting_user: User | None, inbound: InboundMessage) -> str:
    """Parse a received message (the worker job); idempotent: a processed message is skipped."""
    if inbound.processed_at is not None:
        return inbound.outcome
    outcomes = email_ingest(
        acting_user=acting_user, raw=bytes(inbound.raw), recipients=inbound.recipients, via=inbound.received_via
    )
    created = sum(1 for o in outcomes if o.created)
    inbound.outcome = f"{len(outcomes)} users, {created} new"
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["outcome", "processed_at"])
    return inbound.outcome


@write_service
def email_assign(*, acting_user: User | None, email: LoggedEmail, account: Account) -> LoggedEmail:
    """Put an unassigned message on an account's timeline, with the account's contacts it names."""
    if email.account_id is not None:
        raise DomainError(_("This email is already assigned."), [FieldError("account", _("Already assigned."))])
    _put_on_timeline(email, account=account, contacts=_contacts_on(account, email))
    return email
