"""Working a CTA: complete a task, send an email step, close, snooze, reassign, hand an expansion over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tandem.accounts.models import Account
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.audit.services import audit_bulk_update
from tandem.core.errors import DomainError, FieldError
from tandem.notifications.messages import Message, Msgid
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.playbooks.models import (
    CallToAction,
    CtaOutcome,
    CtaPriority,
    CtaStatus,
    CtaTask,
    CtaType,
    OutboundEmail,
    StepKind,
    TaskStatus,
)
from tandem.playbooks.rules import priority_score
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.users.models import User

if TYPE_CHECKING:
    from tandem.opportunities.models import Opportunity

from tandem.playbooks.services.emails import _EmailToQueue, _queue_emails


def _open_cta(cta_id: int) -> CallToAction:
    cta = CallToAction.objects.select_for_update().filter(pk=cta_id).first()
    if cta is None:
        raise DomainError(_("No such call to action."), status=404)
    if not cta.is_open:
        raise DomainError(_("This call to action is closed."), [FieldError("status", _("Closed."))], status=409)
    return cta


@write_service
def cta_task_complete(*, acting_user: User | None, task: CtaTask) -> CtaTask:
    """Tick off a task (an email step is sent instead: see ``cta_email_send``)."""
    _open_cta(task.cta_id)
    task = CtaTask.objects.select_for_update().get(pk=task.pk)
    if task.kind == StepKind.EMAIL:
        raise DomainError(_("Send the email to complete this step."), [FieldError("task", _("Email step."))])
    if task.status == TaskStatus.PENDING:
        task.status, task.completed_at, task.completed_by = TaskStatus.DONE, timezone.now(), acting_user
        task.save(update_fields=["status", "completed_at", "completed_by"])
        cta = CallToAction.objects.only("account_id", "title").get(pk=task.cta_id)
        events.record(
            account_id=cta.account_id,
            kind=EventKind.TASK_DONE,
            occurred_at=task.completed_at,
            actor_id=acting_user.pk if acting_user is not None else None,
            target=cta,
            data={"title": task.title, "cta_title": cta.title},
        )
    return task


@write_service
def cta_email_send(*, acting_user: User | None, task: CtaTask, language: str | None = None) -> OutboundEmail:
    """Queue the email of an email step to the account's primary contact (once), in ``language``'s
    version of the template when it has one."""
    _open_cta(task.cta_id)
    task = CtaTask.objects.select_for_update(of=("self",)).select_related("cta", "step__email_template").get(pk=task.pk)
    existing = OutboundEmail.objects.filter(task=task).first()
    if existing:
        return existing
    if task.kind != StepKind.EMAIL or task.step is None:
        raise DomainError(_("This step sends no email."), [FieldError("task", _("Not an email step."))])
    sender_id = acting_user.pk if acting_user is not None else None
    queued = _queue_emails(
        items=[_EmailToQueue(task.pk, task.cta.account_id, sender_id, task.step.email_template, language)]
    )
    if not queued:
        raise DomainError(
            _("The account has no contact with an email address."), [FieldError("contact", _("Missing."))]
        )
    return queued[0]


@write_service
def cta_close(*, acting_user: User | None, cta: CallToAction, outcome: str, reason: str = "") -> CallToAction:
    """Close a CTA with an outcome; its open tasks are skipped."""
    if outcome not in CtaOutcome.values:
        raise DomainError(_("Invalid outcome."), [FieldError("outcome", _("Choose an outcome."))])
    cta = _open_cta(cta.pk)
    cta.status, cta.closed_at, cta.outcome, cta.close_reason = CtaStatus.CLOSED, timezone.now(), outcome, reason
    cta.snoozed_until = None
    cta.save(update_fields=["status", "closed_at", "outcome", "close_reason", "snoozed_until", "updated_at"])
    audit_bulk_update(
        queryset=cta.tasks.filter(status=TaskStatus.PENDING),
        values={"status": TaskStatus.SKIPPED.value},
        account_field="cta__account_id",
    )
    _record_outcome(acting_user=acting_user, cta=cta)
    return cta


def _record_outcome(*, acting_user: User | None, cta: CallToAction) -> None:
    """Put the closing on the account's timeline as an event, not an interaction: closing a CTA is
    not a conversation with the customer, so it must not count for the no-interaction trigger."""
    events.record(
        account_id=cta.account_id,
        kind=EventKind.CTA_CLOSED,
        occurred_at=cta.closed_at or timezone.now(),
        actor_id=acting_user.pk if acting_user is not None else None,
        target=cta,
        data={"title": cta.title, "outcome": cta.outcome, "reason": cta.close_reason},
    )


@write_service
def cta_snooze(*, acting_user: User | None, cta: CallToAction, until: dt.date, today: dt.date) -> CallToAction:
    """Hide a CTA from the queue until a later day."""
    if until <= today:
        raise DomainError(_("Invalid snooze."), [FieldError("until", _("Choose a day after today."))])
    cta = _open_cta(cta.pk)
    cta.status, cta.snoozed_until = CtaStatus.SNOOZED, until
    cta.save(update_fields=["status", "snoozed_until", "updated_at"])
    return cta


@write_service
def cta_reassign(*, acting_user: User | None, cta: CallToAction, owner: User) -> CallToAction:
    """Give a CTA (and its open tasks of the previous owner) to someone else, and tell them."""
    cta = _open_cta(cta.pk)
    previous = cta.owner_id
    cta.owner = owner
    cta.save(update_fields=["owner", "updated_at"])
    audit_bulk_update(
        queryset=cta.tasks.filter(status=TaskStatus.PENDING, assignee_id=previous),
        values={"assignee": owner},
        account_field="cta__account_id",
    )
    notifications_send(
        drafts=[
            NotificationDraft(
                user_id=owner.pk,
                key=f"cta:{cta.pk}:assigned:{timezone.now().timestamp()}",
                title=Msgid(gettext_noop("%(user)s assigned you: %(title)s"))
                % {"user": str(acting_user) if acting_user is not None else "Tandem", "title": cta.title},
                body=Message.from_json(cta.reason_message) or cta.reason,
                url=f"/playbooks/ctas/{cta.pk}/",
            )
        ]
    )
    return cta


@write_service
def cta_expansion_opportunity_open(
    *, acting_user: User | None, cta: CallToAction, amount: Decimal, close_date: dt.date
) -> tuple[Opportunity, bool]:
    """Hand an expansion signal to the account manager as an upsell opportunity.

    Idempotent per CTA: a second call returns the opportunity opened the first time. Returns the
    opportunity and whether it was created now. The CTA stays open for the CSM's own tasks.
    """
    from tandem.opportunities.models import Opportunity, OpportunityKind, OpportunitySource
    from tandem.opportunities.services import opportunity_create

    cta = CallToAction.objects.select_for_update(of=("self",)).select_related("account").get(pk=cta.pk)
    if cta.type != CtaType.EXPANSION:
        raise DomainError(
            _("Not an expansion signal."), [FieldError("type", _("Only expansion calls to action open opportunities."))]
        )
    ref = f"cta:{cta.pk}"
    existing = Opportunity.objects.filter(source=OpportunitySource.CTA, source_ref=ref).first()
    if existing is not None:
        return existing, False
    opportunity = opportunity_create(
        acting_user=acting_user,
        account=cta.account,
        kind=OpportunityKind.UPSELL,
        amount=amount,
        close_date=close_date,
        source=OpportunitySource.CTA,
        source_ref=ref,
        notes=cta.reason,
    )
    return opportunity, True


# --- a CTA opened by hand (added with the account page's write actions) ---------------------------


@write_service
def cta_create(
    *,
    acting_user: User | None,
    account: Account,
    title: str,
    type: str,
    owner: User | None,
    due_date: dt.date,
    today: dt.date,
    priority: int = CtaPriority.MEDIUM,
    reason: str = "",
) -> CallToAction:
    """Open a task or call to action by hand on an account, with one to-do for its owner.

    No rule and no playbook: the one task (the CTA's title, for the owner, due the same day) is
    what the owner ticks off; closing the CTA records the outcome as for any other. An archived
    account takes none (restore it first).
    """
    from tandem.health.models import AccountHealth

    title = (title or "").strip()
    errors: list[FieldError] = []
    if account.is_archived:  # no longer worked: its CTA would show in no queue
        errors.append(FieldError("account", _("The account is archived; restore it to open work on it.")))
    if not title:
        errors.append(FieldError("title", _("This field cannot be blank.")))
    if type not in CtaType.values:
        errors.append(FieldError("type", _("Choose a type.")))
    if priority not in CtaPriority.values:
        errors.append(FieldError("priority", _("Choose a priority.")))
    if due_date < today:
        errors.append(FieldError("due_date", _("The due date must not be in the past.")))
    if errors:
        raise DomainError(_("Invalid call to action."), errors)
    health = AccountHealth.objects.filter(account_id=account.pk).values_list("score", flat=True).first()
    cta = CallToAction.objects.create(
        account=account,
        type=type,
        priority=priority,
        title=title,
        reason=reason.strip(),
        owner=owner,
        opened_on=today,
        due_date=due_date,
        priority_score=priority_score(arr=float(account.arr), priority=priority, health_score=health),
    )
    CtaTask.objects.create(cta=cta, position=1, kind=StepKind.TASK, title=title, assignee=owner, due_date=due_date)
    events.record(
        account_id=account.pk,
        kind=EventKind.CTA_OPENED,
        occurred_at=cta.created_at,
        actor_id=acting_user.pk if acting_user is not None else None,
        target=cta,
        data={"title": cta.title, "priority": cta.priority},
    )
    return cta


# --- CTAs recorded in bulk (history migrated from another tool, the demo's past year) -------------


@write_service
def cta_bulk_record(*, acting_user: User | None, ctas: Sequence[CallToAction], now: dt.datetime) -> None:
    """Record CTAs opened (and usually closed) earlier or elsewhere, as they were, with their audit entries."""
    bulk_save(CallToAction, creates=ctas, updates=[], fields=[], now=now, describe=lambda c: c.title)
    events.record_many(_history_events(ctas))


def _history_events(ctas: Sequence[CallToAction]) -> list[events.Event]:
    """Each recorded CTA's opening (on the day it was opened) and closing, for the timeline."""
    found: list[events.Event] = []
    for cta in ctas:
        opened = timezone.make_aware(dt.datetime.combine(cta.opened_on, dt.time(9)))
        found.append(
            events.Event(
                account_id=cta.account_id,
                kind=EventKind.CTA_OPENED,
                occurred_at=opened,
                target=cta,
                data={"title": cta.title, "priority": cta.priority},
            )
        )
        if cta.closed_at is not None:
            found.append(
                events.Event(
                    account_id=cta.account_id,
                    kind=EventKind.CTA_CLOSED,
                    occurred_at=cta.closed_at,
                    actor_id=cta.owner_id,
                    target=cta,
                    data={"title": cta.title, "outcome": cta.outcome, "reason": cta.close_reason},
                )
            )
    return found


@write_service
def cta_bulk_reschedule(
    *, acting_user: User | None, ctas: Sequence[CallToAction], tasks: Sequence[CtaTask], now: dt.datetime
) -> None:
    """Write the ``opened_on``/``due_date`` set on these CTAs and the ``due_date`` of these tasks."""
    bulk_save(
        CallToAction, creates=[], updates=ctas, fields=["opened_on", "due_date"], now=now, describe=lambda c: c.title
    )
    bulk_save(CtaTask, creates=[], updates=tasks, fields=["due_date"], now=now, describe=lambda t: t.title)
