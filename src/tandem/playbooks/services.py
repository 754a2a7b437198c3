"""Writes: evaluate rules and open CTAs in bulk, run playbook steps, and work CTAs.

Idempotency: one open CTA per rule and account is a partial unique constraint, CTAs are inserted
with ``ON CONFLICT DO NOTHING RETURNING id`` (so a run learns exactly the rows it inserted), each rule's CTAs, tasks,
emails, notifications and jobs commit in one transaction, and steps are materialised under a
unique (cta, position). Running an evaluation twice, or again after a worker died half-way,
therefore opens nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tandem.accounts.models import Account, Contact
from tandem.audit.context import audit_context, write_service
from tandem.audit.models import AuditVia
from tandem.audit.services import audit_bulk_created, audit_bulk_update
from tandem.core.bulk import db_value, insert_rows
from tandem.core.errors import DomainError, FieldError
from tandem.jobs.services import job_enqueue, job_enqueue_many
from tandem.jobs.worker import checkpoint
from tandem.notifications.messages import Message, Msgid, as_json, as_text
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.playbooks import emails
from tandem.playbooks.models import (
    OPEN_Q,
    CallToAction,
    ChurnRiskSample,
    CtaOutcome,
    CtaPriority,
    CtaStatus,
    CtaTask,
    CtaType,
    EmailStatus,
    EmailTemplate,
    OutboundEmail,
    PlaybookStep,
    PoolStrategy,
    Rule,
    StepKind,
    StepRole,
    TaskStatus,
    WorkPool,
)
from tandem.playbooks.providers import Providers, default_providers
from tandem.playbooks.triggers import (
    CHURN_HISTORY_DAYS,
    OPS,
    PARAM_RANGES,
    TRIGGERS,
    EvalContext,
    Matches,
    Unavailable,
    rule_match,
    validate_conditions,
)
from tandem.users.models import User
from tandem.users.roles import Role

if TYPE_CHECKING:
    from tandem.opportunities.models import Opportunity

RISK_WEIGHT = {CtaPriority.LOW: 0.25, CtaPriority.MEDIUM: 0.5, CtaPriority.HIGH: 0.75, CtaPriority.CRITICAL: 1.0}
ARR_FLOOR = 1000.0  # so accounts without revenue yet (onboarding) still rank
ACCOUNT_COLUMNS = ("id", "name", "arr", "tier", "lifecycle_stage", "country", "csm_owner_id", "am_owner_id")


def priority_score(*, arr: float, priority: int, health_score: float | None) -> float:
    """ARR at stake * risk: ``max(ARR, 1000) * priority weight * (1.5 - health/100)`` (health 50 when unknown)."""
    health = 50.0 if health_score is None else max(0.0, min(100.0, float(health_score)))
    return round(max(float(arr), ARR_FLOOR) * RISK_WEIGHT[CtaPriority(priority)] * (1.5 - health / 100), 2)


# --- rules ------------------------------------------------------------------------------------


def _validate_rule(data: dict[str, Any]) -> list[FieldError]:
    errors = []
    if data.get("trigger") not in TRIGGERS:
        errors.append(FieldError("trigger", _("Unknown trigger; one of: %(keys)s") % {"keys": ", ".join(TRIGGERS)}))
    elif not isinstance(data.get("params") or {}, dict):
        errors.append(FieldError("params", _("Trigger parameters must be an object.")))
    else:
        params = data.get("params") or {}
        unknown = set(params) - set(TRIGGERS[data["trigger"]].defaults)
        if unknown:
            errors.append(
                FieldError("params", _("Unknown parameters: %(names)s") % {"names": ", ".join(sorted(unknown))})
            )
        for (trigger_key, name), (low, high) in PARAM_RANGES.items():
            if trigger_key != data["trigger"] or name not in params:
                continue
            value = params[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                errors.append(
                    FieldError(
                        "params",
                        _("%(name)s must be a number from %(low)s to %(high)s.")
                        % {"name": name, "low": low, "high": high},
                    )
                )
    errors += [FieldError("conditions", m) for m in validate_conditions(data.get("conditions") or [])]
    return errors


RULE_FIELDS = (
    "name",
    "description",
    "trigger",
    "params",
    "conditions",
    "playbook",
    "cta_type",
    "priority",
    "owner_role",
    "pool",
    "due_in_days",
    "reopen_after_days",
    "is_active",
    "key",
)


@write_service
def rule_save(*, acting_user: User | None, rule: Rule | None = None, **data: Any) -> Rule:
    """Create or update a rule; an unknown trigger, parameter or condition is refused naming the field."""
    from tandem.core.services import model_assign, model_save, model_validate

    rule = rule or Rule()
    merged = {f: getattr(rule, f, None) for f in ("trigger", "params", "conditions")} | data
    model_assign(rule, data=data, fields=RULE_FIELDS)
    message = _("Invalid rule.")
    model_validate(rule, message=message, extra_errors=_validate_rule(merged))
    model_save(rule, message=message)
    return rule


@dataclass
class RulePreview:
    rule_name: str
    count: int
    accounts: list[dict[str, Any]]
    unavailable: str = ""


def rule_preview(
    *,
    trigger: str,
    params: dict[str, Any],
    conditions: list[dict[str, Any]],
    today: dt.date,
    providers: Providers | None = None,
    limit: int = 25,
) -> RulePreview:
    """Which accounts a rule (saved or not) matches now, biggest ARR first."""
    errors = _validate_rule({"trigger": trigger, "params": params, "conditions": conditions})
    if errors:
        raise DomainError(_("Invalid rule."), errors)
    ctx = EvalContext(today=today, providers=providers or default_providers())
    match = rule_match(trigger_key=trigger, params=params, conditions=conditions, ctx=ctx)
    ids = list(match.matches)
    accounts: list[dict[str, Any]] = [
        dict(a)
        for a in Account.objects.filter(pk__in=ids[:20000]).order_by("-arr", "name").values("id", "name", "arr")[:limit]
    ]
    for a in accounts:
        a["reason"] = as_text(match.matches[a["id"]])  # in the language of whoever previews
    return RulePreview("", len(ids), accounts, match.unavailable)


# --- evaluation: open CTAs in bulk -------------------------------------------------------------


@dataclass
class RuleOutcome:
    rule_id: int
    matched: int = 0
    opened: int = 0
    unavailable: str = ""


@dataclass
class EvaluationReport:
    today: dt.date
    rules: list[RuleOutcome] = field(default_factory=list)

    @property
    def opened(self) -> int:
        return sum(r.opened for r in self.rules)


@write_service(atomic=False)  # one transaction per rule, so a long evaluation never holds one write lock
def rules_evaluate(
    *,
    acting_user: User | None,
    today: dt.date,
    rule_ids: Iterable[int] | None = None,
    providers: Providers | None = None,
) -> EvaluationReport:
    """Evaluate active rules and open a CTA for every new match (one transaction per rule).

    First records a newly scored churn-risk day (the history ``churn_risk_rise`` compares with).
    What the rules write is recorded as via "rule", whoever asked for the evaluation.
    """
    ctx = EvalContext(today=today, providers=providers or default_providers())
    churn_risk_history_record(ctx=ctx)
    rules = Rule.objects.filter(is_active=True).select_related("playbook", "pool").order_by("id")
    if rule_ids is not None:
        rules = rules.filter(pk__in=list(rule_ids))
    report = EvaluationReport(today=today)
    with audit_context(via=AuditVia.RULE):
        for rule in rules:
            match = rule_match(trigger_key=rule.trigger, params=rule.params, conditions=rule.conditions, ctx=ctx)
            outcome = RuleOutcome(rule.pk, matched=len(match.matches), unavailable=match.unavailable)
            if match.matches:
                outcome.opened = _open_for_rule(rule=rule, matches=match.matches, ctx=ctx)
            report.rules.append(outcome)
            checkpoint("rules.after_rule")
    return report


@transaction.atomic
def churn_risk_history_record(*, ctx: EvalContext) -> int:
    """Copy the current churn-risk scores into ``ChurnRiskSample`` once per scoring day; drop old samples.

    The risk domain keeps only each account's latest score; the ``churn_risk_rise`` trigger compares
    it with these samples. Returns how many samples were added (0 when that day is already recorded).
    """
    try:
        current = ctx.risk()
    except Unavailable:
        return 0
    days = {s.as_of for s in current.values()}
    if not days:
        return 0
    recorded = {day for day in days if ChurnRiskSample.objects.filter(as_of=day).exists()}
    rows = [
        (aid, db_value(ChurnRiskSample, "as_of", s.as_of), s.probability)
        for aid, s in current.items()
        if s.as_of not in recorded and s.probability is not None
    ]
    if not rows:
        return 0
    added = insert_rows(
        model=ChurnRiskSample,
        fields=("account", "as_of", "probability"),
        rows=rows,
        returning=("account",),
        ignore_conflicts=True,
    )
    ChurnRiskSample.objects.filter(as_of__lt=ctx.today - dt.timedelta(days=CHURN_HISTORY_DAYS)).delete()
    return len(added)


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _fallback_manager_id() -> int | None:
    return (
        User.objects.filter(is_active=True, groups__name=Role.CS_MANAGER.group_name)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


class _PoolAssigner:
    """Hands CTAs of a pool to its members, round robin or to whoever has the fewest open CTAs."""

    def __init__(self, pool: WorkPool) -> None:
        self.pool = WorkPool.objects.select_for_update().get(pk=pool.pk)
        self.members = sorted(self.pool.members.filter(is_active=True).values_list("id", flat=True))
        self.load = Counter(
            dict(
                CallToAction.objects.filter(OPEN_Q, owner_id__in=self.members)
                .values("owner_id")
                .annotate(n=Count("id"))
                .values_list("owner_id", "n")
            )
        )

    def next(self) -> int | None:
        if not self.members:
            return None
        if self.pool.strategy == PoolStrategy.ROUND_ROBIN:
            member = self.members[self.pool.cursor % len(self.members)]
            self.pool.cursor += 1
        else:
            member = min(self.members, key=lambda m: (self.load[m], m))
        self.load[member] += 1
        return member

    def save(self) -> None:
        self.pool.save(update_fields=["cursor"])


def _owner_for(role: str, account: dict[str, Any], manager_id: int | None) -> int | None:
    if role == StepRole.AM:
        return account["am_owner_id"] or account["csm_owner_id"]
    if role == StepRole.CS_MANAGER:
        return manager_id
    return account["csm_owner_id"] or account["am_owner_id"]


CTA_FIELDS = (
    "created_at",
    "updated_at",
    "rule",
    "account",
    "playbook",
    "type",
    "priority",
    "title",
    "reason",
    "reason_message",
    "owner",
    "pool",
    "status",
    "opened_on",
    "due_date",
    "snoozed_until",
    "closed_at",
    "outcome",
    "close_reason",
    "priority_score",
)
TASK_FIELDS = (
    "cta",
    "step",
    "position",
    "kind",
    "title",
    "assignee",
    "due_date",
    "status",
    "completed_at",
    "completed_by",
)


@dataclass(frozen=True)
class _CtaRef:
    """The little of a CTA that materialising its steps needs."""

    id: int
    account_id: int
    owner_id: int | None


@dataclass(frozen=True)
class _EmailToQueue:
    task_id: int
    account_id: int
    sender_id: int | None
    template: EmailTemplate | None


def _account_rows(ctx: EvalContext, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Account columns for ``ids``, read once per evaluation and shared by every rule."""
    cache: dict[int, dict[str, Any]] = ctx.cache.setdefault("account_rows", {})
    missing = [aid for aid in ids if aid not in cache]
    for chunk in _chunks(missing):
        cache.update({a["id"]: a for a in Account.objects.filter(pk__in=chunk).values(*ACCOUNT_COLUMNS)})
    return cache


@transaction.atomic
def _open_for_rule(*, rule: Rule, matches: Matches, ctx: EvalContext) -> int:
    """Open the rule's new CTAs, their first tasks and notifications with a few statements per rule.

    Rows are plain tuples inserted with ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the
    partial unique constraint skips an account that already has an open CTA of the rule (a racing
    evaluation, or a re-run after a killed worker), and only the rows this statement inserted come
    back, so only they get tasks and notifications. Nothing is read back.
    """
    now = timezone.now()
    already = set(CallToAction.objects.filter(OPEN_Q, rule=rule).values_list("account_id", flat=True))
    quiet_since = now - dt.timedelta(days=rule.reopen_after_days)
    cooling = set(
        CallToAction.objects.filter(rule=rule, status=CtaStatus.CLOSED, closed_at__gte=quiet_since).values_list(
            "account_id", flat=True
        )
    )
    new_ids = sorted(set(matches) - already - cooling)
    if not new_ids:
        return 0
    accounts = _account_rows(ctx, new_ids)
    try:
        health = ctx.health()
    except Exception:
        health = {}
    manager_id = ctx.memo("manager_id", _fallback_manager_id)
    pool = _PoolAssigner(rule.pool) if rule.pool is not None else None
    stamp = db_value(CallToAction, "created_at", now)
    opened_on = db_value(CallToAction, "opened_on", ctx.today)
    due = db_value(CallToAction, "due_date", ctx.today + dt.timedelta(days=rule.due_in_days))
    weight = RISK_WEIGHT[CtaPriority(rule.priority)]
    titles: dict[int, str] = {}
    rows = []
    with translation.override(settings.LANGUAGE_CODE):  # the stored fallback text of the reason
        for aid in new_ids:
            account = accounts.get(aid)
            if account is None:
                continue
            owner = pool.next() if pool else _owner_for(rule.owner_role, account, manager_id)
            snapshot = health.get(aid)
            score = getattr(snapshot, "score", None)
            health_score = 50.0 if score is None else max(0.0, min(100.0, float(score)))
            title = titles[aid] = f"{rule.name}: {account['name']}"[:300]
            rows.append(
                (
                    stamp,
                    stamp,
                    rule.pk,
                    aid,
                    rule.playbook_id,
                    rule.cta_type,
                    rule.priority,
                    title,
                    as_text(matches[aid]),
                    json.dumps(as_json(matches[aid])),
                    owner,
                    rule.pool_id,
                    CtaStatus.OPEN.value,
                    opened_on,
                    due,
                    None,
                    None,
                    "",
                    "",
                    round(max(float(account["arr"]), ARR_FLOOR) * weight * (1.5 - health_score / 100), 2),
                )
            )
    inserted = insert_rows(
        model=CallToAction,
        fields=CTA_FIELDS,
        rows=rows,
        returning=("id", "account", "owner"),
        ignore_conflicts=True,
    )
    if pool:
        pool.save()
    created = [_CtaRef(*row) for row in inserted]
    steps = ctx.memo(("steps", rule.playbook_id), lambda: list(rule.playbook.steps.order_by("position")))
    tasks = _materialise(
        ctas=created,
        steps=steps,
        from_position=0,
        start=ctx.today,
        manager_id=manager_id,
        accounts=accounts,
        audit_tasks=False,
    )
    _audit_ctas_opened(created=created, rows=rows, tasks=tasks)
    new_cta = Msgid(gettext_noop("New call to action: %(title)s"))
    notifications_send(
        drafts=[
            NotificationDraft(
                user_id=c.owner_id,
                key=f"cta:{c.id}",
                title=new_cta % {"title": titles[c.account_id]},
                body=matches[c.account_id],
                url=f"/playbooks/ctas/{c.id}/",
            )
            for c in created
            if c.owner_id
        ]
    )
    checkpoint("rules.before_commit")
    return len(created)


# What a CTA's and a task's creation entry shows: the columns a reader of the history asks about.
# The title is the entry's object_repr already; the reason's text and the sort score are left
# out (long, or derived). Every byte counts here: a first evaluation opens tens of thousands of
# CTAs (docs/performance.md, "Audit history overhead").
CTA_AUDITED = ("rule", "type", "priority", "owner", "pool", "status", "opened_on", "due_date", "tasks")
TASK_AUDITED = ("cta", "step", "position", "kind", "assignee", "due_date", "status")
_cta_audited = itemgetter(*[CTA_FIELDS.index(name) for name in CTA_AUDITED[:-1]])
_task_audited = itemgetter(*[TASK_FIELDS.index(name) for name in TASK_AUDITED])
_TITLE_AT, _ACCOUNT_AT, _TASK_TITLE_AT = (
    CTA_FIELDS.index("title"),
    CTA_FIELDS.index("account"),
    TASK_FIELDS.index("title"),
)


def _audit_ctas_opened(*, created: list[_CtaRef], rows: list[tuple[Any, ...]], tasks: dict[int, list[str]]) -> None:
    """One creation entry per CTA this evaluation inserted (rows skipped by ON CONFLICT get none).

    The tasks its playbook opened with it are listed in that entry (``tasks``: their titles)
    rather than given one entry each: they follow from the rule's playbook, and an entry per task
    more than doubled what auditing costs a first evaluation (docs/performance.md). Their later
    changes (done, skipped, reassigned) are entries of their own.
    """
    by_account = {row[_ACCOUNT_AT]: row for row in rows}
    audit_bulk_created(
        model=CallToAction,
        rows=[
            (c.id, row[_TITLE_AT], c.account_id, (*_cta_audited(row), tasks.get(c.id)))
            for c in created
            for row in (by_account[c.account_id],)
        ],
        columns=CTA_AUDITED,
    )


# --- playbook steps -----------------------------------------------------------------------------


def _condition_holds(condition: dict[str, Any], account: dict[str, Any]) -> bool:
    if not condition:
        return True
    value = account.get(condition.get("field", ""))
    if condition.get("field") in {"arr"}:
        value = float(value or 0)
    return OPS[condition.get("op", "eq")](value, condition.get("value"))


def _materialise(
    *,
    ctas: list[_CtaRef],
    steps: list[PlaybookStep],
    from_position: int,
    start: dt.date,
    manager_id: int | None,
    accounts: dict[int, dict[str, Any]] | None = None,
    audit_tasks: bool = True,
) -> dict[int, list[str]]:
    """Create the tasks of each CTA's next steps, up to and including the next wait; send what is due.

    Tasks are inserted as plain rows in a few statements; the unique (cta, position) constraint
    refuses a step materialised twice. Returns the titles of the tasks created, by CTA. With
    ``audit_tasks`` each task gets a creation entry; the rules engine lists them in the entry of
    the CTA it opens instead.
    """
    if not ctas or not steps:
        return {}
    if accounts is None:
        accounts = {
            a["id"]: a for a in Account.objects.filter(pk__in=[c.account_id for c in ctas]).values(*ACCOUNT_COLUMNS)
        }
    now = db_value(CtaTask, "completed_at", timezone.now())
    due_by_offset = {
        s.due_offset_days: db_value(CtaTask, "due_date", start + dt.timedelta(days=s.due_offset_days)) for s in steps
    }
    pending, done = TaskStatus.PENDING.value, TaskStatus.DONE.value
    rows: list[tuple[Any, ...]] = []
    drafts: list[NotificationDraft] = []
    auto_email: list[tuple[int, int, int | None, PlaybookStep]] = []  # cta, account, assignee, step
    for cta in ctas:
        account = accounts[cta.account_id]
        skip = 0
        for step in steps:
            if step.position < from_position:
                continue
            if skip:
                skip -= 1
                continue
            if step.kind == StepKind.BRANCH:
                if not _condition_holds(step.condition, account):
                    skip = step.skip_if_false
                continue
            assignee = (
                cta.owner_id if step.role == StepRole.ACCOUNT_OWNER else _owner_for(step.role, account, manager_id)
            )
            is_notify = step.kind == StepKind.NOTIFY
            rows.append(
                (
                    cta.id,
                    step.pk,
                    step.position,
                    step.kind,
                    step.title,
                    assignee,
                    due_by_offset[step.due_offset_days],
                    done if is_notify else pending,
                    now if is_notify else None,
                    None,
                )
            )
            if is_notify and assignee:
                drafts.append(
                    NotificationDraft(
                        user_id=assignee,
                        key=f"cta:{cta.id}:step:{step.position}",
                        title=f"{step.title}: {account['name']}",
                        body=step.body,
                        url=f"/playbooks/ctas/{cta.id}/",
                    )
                )
            if step.kind == StepKind.EMAIL and step.auto_send:
                auto_email.append((cta.id, cta.account_id, assignee, step))
            if step.kind == StepKind.WAIT:
                break
    returned = insert_rows(
        model=CtaTask,
        fields=TASK_FIELDS,
        rows=rows,
        returning=("cta", "position", "id") if auto_email or audit_tasks else (),
    )
    task_ids = {(cta_id, position): task_id for cta_id, position, task_id in returned}
    if audit_tasks:
        account_of = {cta.id: cta.account_id for cta in ctas}
        audit_bulk_created(
            model=CtaTask,
            rows=[
                (task_ids[(row[0], row[2])], row[_TASK_TITLE_AT], account_of[row[0]], _task_audited(row))
                for row in rows
            ],
            columns=TASK_AUDITED,
        )
    notifications_send(drafts=drafts)
    if auto_email:
        _queue_emails(
            items=[
                _EmailToQueue(task_ids[(cta_id, step.position)], account_id, assignee, step.email_template)
                for cta_id, account_id, assignee, step in auto_email
            ]
        )
    titles: dict[int, list[str]] = {}
    for row in rows:
        titles.setdefault(row[0], []).append(row[_TASK_TITLE_AT])
    return titles


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
        values = emails.placeholder_values(account=account, contact=contact, sender=sender)
        emails_out.append(
            OutboundEmail(
                account=account,
                contact=contact,
                task_id=item.task_id,
                template=template,
                sender=sender,
                to_email=contact.email,
                subject=emails.render(template.subject, values),
                body=emails.render(template.body, values),
            )
        )
    OutboundEmail.objects.bulk_create(emails_out, batch_size=500)
    job_enqueue_many(jobs=[("playbooks.send_customer_email", {"email_id": e.pk}, f"email:{e.pk}") for e in emails_out])
    return emails_out


@dataclass(frozen=True)
class CtaAdvanceResult:
    """What one ``ctas_advance`` did: snoozed CTAs woken, waits finished (their next steps reached)."""

    woken: int
    waits_finished: int


@write_service
def ctas_advance(*, acting_user: User | None, today: dt.date) -> CtaAdvanceResult:
    """Finish waits that are over (reaching the steps after them) and wake snoozed CTAs.

    Idempotent: a finished wait is done and a woken CTA open, so a second run on a day does nothing.
    """
    woken = audit_bulk_update(
        queryset=CallToAction.objects.filter(OPEN_Q, status=CtaStatus.SNOOZED, snoozed_until__lte=today),
        values={"status": CtaStatus.OPEN.value, "snoozed_until": None},
    )
    waits = list(
        CtaTask.objects.filter(
            kind=StepKind.WAIT,
            status=TaskStatus.PENDING,
            due_date__lte=today,
            cta__status__in=[CtaStatus.OPEN, CtaStatus.SNOOZED],
        ).select_related("cta", "cta__playbook")
    )
    if not waits:
        return CtaAdvanceResult(woken=woken, waits_finished=0)
    audit_bulk_update(
        queryset=CtaTask.objects.filter(pk__in=[w.pk for w in waits]),
        values={"status": TaskStatus.DONE.value, "completed_at": timezone.now()},
        account_field="cta__account_id",
    )
    manager_id = _fallback_manager_id()
    by_playbook: dict[int, list[CtaTask]] = {}
    for w in waits:
        if w.cta.playbook_id:
            by_playbook.setdefault(w.cta.playbook_id, []).append(w)
    for playbook_id, group in by_playbook.items():
        steps = list(PlaybookStep.objects.filter(playbook_id=playbook_id).order_by("position"))
        by_position: dict[int, list[CallToAction]] = {}
        for w in group:
            by_position.setdefault(w.position + 1, []).append(w.cta)
        for position, ctas in by_position.items():
            _materialise(
                ctas=[_CtaRef(c.pk, c.account_id, c.owner_id) for c in ctas],
                steps=steps,
                from_position=position,
                start=today,
                manager_id=manager_id,
            )
    return CtaAdvanceResult(woken=woken, waits_finished=len(waits))


# --- working a CTA ------------------------------------------------------------------------------


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
    return task


@write_service
def cta_email_send(*, acting_user: User | None, task: CtaTask) -> OutboundEmail:
    """Queue the email of an email step to the account's primary contact (once)."""
    _open_cta(task.cta_id)
    task = CtaTask.objects.select_for_update(of=("self",)).select_related("cta", "step__email_template").get(pk=task.pk)
    existing = OutboundEmail.objects.filter(task=task).first()
    if existing:
        return existing
    if task.kind != StepKind.EMAIL or task.step is None:
        raise DomainError(_("This step sends no email."), [FieldError("task", _("Not an email step."))])
    sender_id = acting_user.pk if acting_user is not None else None
    queued = _queue_emails(items=[_EmailToQueue(task.pk, task.cta.account_id, sender_id, task.step.email_template)])
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
    return cta


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


# --- sending customer email -----------------------------------------------------------------------


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


def rules_evaluation_enqueue(*, reason: str = "metrics-refreshed") -> None:
    """Ask a worker to evaluate the rules (e.g. right after a metrics refresh)."""
    job_enqueue(
        name="playbooks.evaluate_rules",
        payload={"day": timezone.localdate().isoformat()},
        key=f"evaluate:{reason}:{timezone.now().isoformat(timespec='minutes')}",
    )


@write_service
def email_template_save(
    *, acting_user: User | None, template: EmailTemplate | None = None, **data: Any
) -> EmailTemplate:
    """Create or update a template; unknown placeholders are refused."""
    template = template or EmailTemplate()
    for name, value in data.items():
        setattr(template, name, value)
    errors = [
        FieldError(f, _("Unknown placeholders: %(names)s") % {"names": ", ".join(u)})
        for f in ("subject", "body")
        if (u := emails.unknown_placeholders(getattr(template, f)))
    ]
    if errors:
        raise DomainError(_("Invalid email template."), errors)
    template.save()
    return template


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
