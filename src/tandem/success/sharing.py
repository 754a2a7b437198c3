"""The success plan shared with the customer: signed links, one-time codes and the customer's comments.

A link is ``/shared/plans/<token>/`` where the token is ``django.core.signing`` over the share's id
and random key (salted for this use), so a changed token is refused by its signature; the row then
says whether the link has expired or been revoked. Chosen over a bare random token so that a
guessed or edited link costs no database read, and over a timestamped signature so that a link's
end date lives in one place that the CSM can see and shorten (revoking).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tandem.accounts.models import Account, Contact
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_save
from tandem.notifications.delivery import send_mail_smtp, smtp_configured
from tandem.notifications.messages import Message
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.success.models import PlanComment, PlanShare
from tandem.success.selectors import plan_for
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.users.models import User

SALT = "tandem.success.plan-share"
MAX_DAYS = 180
CODE_MINUTES = 15
CODE_ATTEMPTS = 5
COMMENT_MAX = 4000
COMMENTS_PER_HOUR = 20
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def share_token(share: PlanShare) -> str:
    return signing.Signer(salt=SALT).sign_object({"s": share.pk, "k": share.key})


def share_path(share: PlanShare) -> str:
    return reverse("shared:plan", args=[share_token(share)])


class ShareProblem(Enum):
    INVALID = "invalid"  # not a token we signed, or signed for a share that no longer exists
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class ShareRefused(Exception):
    problem: ShareProblem
    share: PlanShare | None = None


def share_resolve(token: str, *, now: dt.datetime | None = None) -> PlanShare:
    """The share a link names, or :class:`ShareRefused` saying why the link does not open."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
        share_id, key = int(payload["s"]), str(payload["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ShareRefused(ShareProblem.INVALID) from None
    share = (
        PlanShare.objects.select_related("plan__account__csm_owner", "plan__sponsor", "contact")
        .filter(pk=share_id)
        .first()
    )
    if share is None or not hmac.compare_digest(share.key, key):
        raise ShareRefused(ShareProblem.INVALID)
    if share.revoked_at is not None:
        raise ShareRefused(ShareProblem.REVOKED, share)
    if share.expires_at <= (now or timezone.now()):
        raise ShareRefused(ShareProblem.EXPIRED, share)
    return share


def share_is_active(share: PlanShare, *, now: dt.datetime | None = None) -> bool:
    return share.revoked_at is None and share.expires_at > (now or timezone.now())


@write_service
def plan_share_create(
    *,
    acting_user: User | None,
    account: Account,
    contact: Contact,
    days: int = 30,
    language: str = "",
    require_code: bool = False,
) -> PlanShare:
    """Share the account's plan with one of its contacts for ``days`` days, in their language."""
    errors = []
    if contact.account_id != account.pk:
        errors.append(FieldError("contact", _("The contact must be a person at this account.")))
    elif not contact.still_at_company:
        errors.append(FieldError("contact", _("This person has left the company.")))
    if not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", _("Choose between 1 and %(max)s days.") % {"max": MAX_DAYS}))
    language = language or contact.language or settings.LANGUAGE_CODE
    if language not in LANGUAGE_CODES:
        errors.append(FieldError("language", _("Choose one of: %(v)s.") % {"v": ", ".join(sorted(LANGUAGE_CODES))}))
    if require_code and not contact.email:
        errors.append(FieldError("require_code", _("A one-time code is mailed: the contact has no email address.")))
    elif require_code and not smtp_configured():
        errors.append(
            FieldError(
                "require_code",
                _("A one-time code is mailed, and no SMTP server is configured (TANDEM_SMTP_HOST)."),
            )
        )
    if errors:
        raise DomainError(_("The plan cannot be shared."), errors)
    plan = plan_for(account)
    if plan.pk is None:
        model_save(plan, message=_("Invalid success plan."))
    share = PlanShare(
        plan=plan,
        contact=contact,
        key=secrets.token_urlsafe(16),
        language=language,
        expires_at=timezone.now() + dt.timedelta(days=days),
        require_code=require_code,
        created_by=acting_user,
    )
    model_save(share, message=_("The plan cannot be shared."))
    events.record(
        account_id=account.pk,
        kind=EventKind.PLAN_SHARED,
        occurred_at=share.created_at,
        actor_id=acting_user.pk if acting_user else None,
        contact_id=contact.pk,
        target=plan,
        data={"contact": str(contact), "expires_at": share.expires_at, "language": language},
    )
    return share


@write_service
def plan_share_revoke(*, acting_user: User | None, share: PlanShare) -> PlanShare:
    """Stop a link from opening (revoking twice keeps the first time and person)."""
    share = PlanShare.objects.select_for_update().get(pk=share.pk)
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.revoked_by = acting_user
        share.save(update_fields=["revoked_at", "revoked_by"])
    return share


def plan_share_viewed(*, share: PlanShare) -> None:
    """Count an opening (a counter, not a change anyone made: no audit entry)."""
    PlanShare.objects.filter(pk=share.pk).update(views=F("views") + 1, last_viewed_at=timezone.now())


def _code_digest(share: PlanShare, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{share.pk}:{share.key}:{code}".encode(), hashlib.sha256).hexdigest()


def plan_share_code_send(*, share: PlanShare) -> str:
    """Mail a new six-digit code to the contact; returns the masked address it went to."""
    if not share.contact.email:
        raise DomainError(_("No code can be sent."), [FieldError("code", _("The contact has no email address."))])
    if not smtp_configured():
        raise DomainError(
            _("No code can be sent."),
            [FieldError("code", _("No email server is configured; ask your customer success manager."))],
        )
    now = timezone.now()
    last_sent = share.code_expires_at - dt.timedelta(minutes=CODE_MINUTES) if share.code_expires_at else None
    if last_sent is not None and last_sent > now - dt.timedelta(seconds=60):
        raise DomainError(
            _("No code can be sent."),
            [FieldError("code", _("A code was sent less than a minute ago; please check your inbox."))],
            status=429,
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        PlanShare.objects.filter(pk=share.pk).update(
            code_hash=_code_digest(share, code),
            code_expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
            code_attempts=0,
        )
    from django.utils import translation

    with translation.override(share.language):
        subject = _("Your code for the success plan of %(account)s") % {"account": share.plan.account.name}
        body = _("Your code is %(code)s. It is valid for %(minutes)s minutes.") % {
            "code": code,
            "minutes": CODE_MINUTES,
        }
    send_mail_smtp(to=[share.contact.email], subject=subject, body=body + "\n")
    return masked_email(share.contact.email)


def masked_email(address: str) -> str:
    name, _at, domain = address.partition("@")
    return f"{name[:1]}•••@{domain}"


def plan_share_code_check(*, share: PlanShare, code: str) -> bool:
    """True when ``code`` is the one last mailed and still valid; five wrong tries end it."""
    with transaction.atomic():
        row = PlanShare.objects.select_for_update().get(pk=share.pk)
        if not row.code_hash or row.code_expires_at is None or row.code_expires_at <= timezone.now():
            return False
        if hmac.compare_digest(row.code_hash, _code_digest(row, code.strip())):
            PlanShare.objects.filter(pk=row.pk).update(code_hash="", code_expires_at=None, code_attempts=0)
            return True
        attempts = row.code_attempts + 1
        update: dict[str, object] = {"code_attempts": attempts}
        if attempts >= CODE_ATTEMPTS:
            update |= {"code_hash": "", "code_expires_at": None}
        PlanShare.objects.filter(pk=row.pk).update(**update)
        return False


@write_service
def plan_comment_add(*, acting_user: User | None, share: PlanShare, body: str) -> PlanComment:
    """The customer's comment on their plan: stored, put on the account's timeline, and the owners told.

    ``acting_user`` is None: the customer is a contact, not a user."""
    text = body.strip()
    if not text:
        raise DomainError(_("The comment was not sent."), [FieldError("body", _("Write a comment first."))])
    if len(text) > COMMENT_MAX:
        raise DomainError(
            _("The comment was not sent."),
            [FieldError("body", _("At most %(max)s characters.") % {"max": COMMENT_MAX})],
        )
    if not share_is_active(share):
        raise DomainError(_("The comment was not sent."), [FieldError("body", _("This link no longer opens."))])
    recent = PlanComment.objects.filter(share=share, created_at__gte=timezone.now() - dt.timedelta(hours=1)).count()
    if recent >= COMMENTS_PER_HOUR:
        raise DomainError(
            _("The comment was not sent."),
            [FieldError("body", _("Too many comments in the last hour; please try again later."))],
            status=429,
        )
    comment = PlanComment.objects.create(share=share, contact=share.contact, body=text)
    account = share.plan.account
    events.record(
        account_id=account.pk,
        kind=EventKind.PLAN_COMMENT,
        occurred_at=comment.created_at,
        contact_id=share.contact_id,
        target=share.plan,
        data={"contact": str(share.contact), "body": text},
    )
    owners = {pk for pk in (account.csm_owner_id, account.am_owner_id, share.created_by_id) if pk}
    url = reverse("success:plan", args=[account.pk])
    title = Message(
        gettext_noop("%(contact)s commented on the success plan of %(account)s"),
        {"contact": str(share.contact), "account": account.name},
    )
    notifications_send(
        drafts=[
            NotificationDraft(user_id=pk, key=f"plan-comment:{comment.pk}", title=title, body=text[:300], url=url)
            for pk in sorted(owners)
        ]
    )
    return comment
