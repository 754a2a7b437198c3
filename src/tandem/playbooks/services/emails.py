"""Customer email: templates, queueing an email step's email, and sending it over SMTP once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.context import write_service
from tandem.audit.services import audit_bulk_update
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_assign, model_save, validation_problems
from tandem.jobs.services import job_enqueue_many
from tandem.jobs.worker import checkpoint
from tandem.playbooks import emails as templating
from tandem.playbooks.models import (
    CtaTask,
    EmailStatus,
    EmailTemplate,
    EmailTemplateVersion,
    OutboundEmail,
    TaskStatus,
)
from tandem.users.models import User

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class _EmailToQueue:
    task_id: int
    account_id: int
    sender_id: int | None
    template: EmailTemplate | None
    language: str | None = None  # its version of the template, when there is one


def _queue_emails(*, items: list[_EmailToQueue]) -> list[OutboundEmail]:
    """Render each email step for the account's primary contact and queue its sending job."""
    account_ids = {item.account_id for item in items}
    accounts = Account.objects.in_bulk(list(account_ids))
    owners = User.objects.in_bulk(
        {pk for a in accounts.values() for pk in (a.csm_owner_id, a.am_owner_id) if pk}
        | {item.sender_id for item in items if item.sender_id}
    )
    for account in accounts.values():
        account.csm_owner = owners.get(account.csm_owner_id)
        account.am_owner = owners.get(account.am_owner_id)
    contacts: dict[int, Contact] = {}
    for candidate in (
        Contact.objects.filter(account_id__in=account_ids, still_at_company=True)
        .exclude(email="")
        .order_by("account_id", "-is_primary", "id")
    ):
        contacts.setdefault(candidate.account_id, candidate)
    emails_out = []
    for item in items:
        account = accounts[item.account_id]
        contact = contacts.get(account.pk)
        template = item.template
        if contact is None or template is None:
            continue
        sender = owners.get(item.sender_id)
        values = templating.placeholder_values(account=account, contact=contact, sender=sender)
        subject, body = template.text_for(item.language)
        emails_out.append(
            OutboundEmail(
                account=account,
                contact=contact,
                task_id=item.task_id,
                template=template,
                sender=sender,
                to_email=contact.email,
                subject=templating.render(subject, values),
                body=templating.render(body, values),
            )
        )
    OutboundEmail.objects.bulk_create(emails_out, batch_size=500)
    job_enqueue_many(jobs=[("playbooks.send_customer_email", {"email_id": e.pk}, f"email:{e.pk}") for e in emails_out])
    return emails_out


@write_service(atomic=False)  # "sending" commits before the SMTP conversation, "sent" after it
def outbound_email_send(*, acting_user: User | None, email_id: int) -> str:
    """Send one queued customer email over SMTP, at most once, and log it on the account timeline.

    The row moves queued → sending (committed) before the SMTP conversation. If the worker dies
    after that, the retried job finds "sending" and marks it "unknown" for a person to check instead
    of sending a second copy.
    """
    from tandem.notifications.delivery import send_mail_smtp, smtp_configured
    from tandem.timeline.models import InteractionKind
    from tandem.timeline.services import interaction_create

    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status in (EmailStatus.SENT, EmailStatus.UNKNOWN, EmailStatus.FAILED):
            return email.status if email else "missing"
        if email.status == EmailStatus.SENDING:
            email.status = EmailStatus.UNKNOWN
            email.error = _("The worker stopped while sending; not sent again automatically.")
            email.save(update_fields=["status", "error", "updated_at"])
            return email.status
        if not smtp_configured():
            from tandem.jobs.services import JobDeferred

            # Not a failure of the email: it is sent once an administrator sets TANDEM_SMTP_HOST.
            raise JobDeferred("SMTP is not configured (TANDEM_SMTP_HOST); the email stays queued.")
        email.status = EmailStatus.SENDING
        email.message_id = f"<tandem-email-{email.pk}@tandem.local>"
        email.save(update_fields=["status", "message_id", "updated_at"])
    try:
        send_mail_smtp(to=[email.to_email], subject=email.subject, body=email.body, message_id=email.message_id)
    except Exception as exc:
        OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.QUEUED, error=str(exc))
        raise
    checkpoint("email.after_send")
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(of=("self",))
            .select_related("account", "contact", "sender")
            .get(pk=email_id)
        )
        interaction = interaction_create(
            acting_user=acting_user,
            account=email.account,
            kind=InteractionKind.EMAIL,
            occurred_at=timezone.now(),
            subject=email.subject,
            summary=email.body,
            author=email.sender,
            users=[email.sender] if email.sender else [],
            contacts=[email.contact] if email.contact else [],
        )
        email.status, email.sent_at, email.interaction = EmailStatus.SENT, timezone.now(), interaction
        email.save(update_fields=["status", "sent_at", "interaction", "updated_at"])
        if email.task_id:
            audit_bulk_update(
                queryset=CtaTask.objects.filter(pk=email.task_id, status=TaskStatus.PENDING),
                values={"status": TaskStatus.DONE.value, "completed_at": timezone.now(), "completed_by": email.sender},
                account_field="cta__account_id",
            )
    return EmailStatus.SENT


TEMPLATE_FIELDS = ("key", "name", "subject", "body")


@write_service
def email_template_save(
    *,
    acting_user: User | None,
    template: EmailTemplate | None = None,
    versions: Iterable[Mapping[str, str]] | None = None,
    **data: Any,
) -> EmailTemplate:
    """Create or update a template and (with ``versions``) its versions in other languages.

    ``versions``: mappings of language, subject and body; a version left with neither subject
    nor body is removed. Unknown placeholders are refused naming the field (``versions.<lang>.body``).
    """
    from tandem.playbooks.services.configuration import unique_key

    template = template or EmailTemplate()
    message = _("Invalid email template.")
    data = dict(data)
    if not data.get("key") and template._state.adding:
        data["key"] = unique_key(EmailTemplate, str(data.get("name") or ""))
    errors: list[FieldError] = []
    try:
        model_assign(template, data=data, fields=TEMPLATE_FIELDS)
    except DomainError as exc:
        errors += exc.errors
    errors += _placeholder_errors("", template.subject, template.body)
    problems, _unique = validation_problems(template)
    errors += problems
    offered = dict(settings.LANGUAGES)
    wanted: dict[str, tuple[str, str]] = {}
    for item in versions or ():
        language = str(item.get("language") or "")
        subject, body = str(item.get("subject") or "").strip(), str(item.get("body") or "").strip()
        prefix = f"versions.{language}."
        if language not in offered:
            errors.append(FieldError("versions", _("'%(code)s' is not offered.") % {"code": language}))
            continue
        if not subject and not body:
            wanted[language] = ("", "")
            continue
        if not subject or not body:
            errors.append(FieldError(f"{prefix}{'body' if subject else 'subject'}", _("This field is required.")))
        errors += _placeholder_errors(prefix, subject, body)
        wanted[language] = (subject, body)
    if errors:
        raise DomainError(message, errors)
    model_save(template, message=message)
    current = {v.language: v for v in template.versions.all()}
    for language, (subject, body) in wanted.items():
        version: EmailTemplateVersion | None = current.get(language)
        if not subject:
            if version is not None:
                version.delete()
        elif version is None:
            EmailTemplateVersion.objects.create(template=template, language=language, subject=subject, body=body)
        elif (version.subject, version.body) != (subject, body):
            version.subject, version.body = subject, body
            version.save()
    return template


def _placeholder_errors(prefix: str, subject: str, body: str) -> list[FieldError]:
    return [
        FieldError(f"{prefix}{name}", _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)})
        for name, text in (("subject", subject), ("body", body))
        if (unknown := templating.unknown_placeholders(text))
    ]


SEND_JOB = "playbooks.send_customer_email"


def queued_emails_release() -> int:
    """Once SMTP is configured, make the customer emails that waited for it due now (not in up to 10 minutes).

    Called when a worker starts: an administrator who sets ``TANDEM_SMTP_HOST`` restarts the
    worker, and the emails queued meanwhile go out at once, without anyone re-queuing jobs.
    Returns how many jobs were brought forward.
    """
    from tandem.jobs.models import Job, JobStatus
    from tandem.notifications.delivery import smtp_configured

    if not smtp_configured():
        return 0
    now = timezone.now()
    return Job.objects.filter(name=SEND_JOB, status=JobStatus.QUEUED, run_after__gt=now).update(run_after=now)
