"""Evaluation: evaluate the rules and open CTAs in bulk.

Idempotency: one open CTA per rule and account is a partial unique constraint, CTAs are inserted
with ``ON CONFLICT DO NOTHING RETURNING id`` (so a run learns exactly the rows it inserted), each rule's CTAs, tasks,
emails, notifications and jobs commit in one transaction, and steps are materialised under a
unique (cta, position). Running an evaluation twice, or again after a worker died half-way,
therefore opens nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from tandem.accounts.models import Account
from tandem.audit.context import audit_context, write_service
from tandem.audit.models import AuditVia
from tandem.audit.services import audit_bulk_created
from tandem.core.bulk import db_value, insert_rows
from tandem.jobs.worker import checkpoint
from tandem.notifications.messages import Msgid, as_json, as_text
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.playbooks.models import (
    OPEN_Q,
    CallToAction,
    ChurnRiskSample,
    CtaStatus,
    Rule,
)
from tandem.playbooks.providers import Providers, default_providers
from tandem.playbooks.rules import (
    CHURN_HISTORY_DAYS,
    EvalContext,
    Matches,
    Unavailable,
    priority_score,
    rule_match,
)
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.users.models import User

if TYPE_CHECKING:
    pass

from tandem.playbooks.services.steps import (
    ACCOUNT_COLUMNS,
    _CtaRef,
    _fallback_manager_id,
    _materialise,
    _owner_for,
    _PoolAssigner,
)


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
    # At most one open CTA per account and kind (CTA type): an account with an open risk CTA from
    # another rule gets no second one (docs/playbooks.md, "One open CTA per account and kind").
    already |= set(CallToAction.objects.filter(OPEN_Q, type=rule.cta_type).values_list("account_id", flat=True))
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
    titles: dict[int, str] = {}
    rows = []
    with translation.override(settings.LANGUAGE_CODE):  # the stored fallback text of the reason
        for aid in new_ids:
            account = accounts.get(aid)
            if account is None:
                continue
            owner = pool.next() if pool else _owner_for(rule.owner_role, account, manager_id)
            score = getattr(health.get(aid), "score", None)
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
                    priority_score(arr=float(account["arr"]), priority=rule.priority, health_score=score),
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
    playbook_name = ctx.memo(("playbook_name", rule.playbook_id), lambda: rule.playbook.name if rule.playbook else "")
    events.record_many(
        events.Event(
            account_id=c.account_id,
            kind=EventKind.CTA_OPENED,
            occurred_at=now,
            target=CallToAction(pk=c.id),
            data={
                "title": titles[c.account_id],
                "priority": rule.priority,
                "rule": rule.name,
                "playbook": playbook_name,
            },
        )
        for c in created
    )
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
_cta_audited = itemgetter(*[CTA_FIELDS.index(name) for name in CTA_AUDITED[:-1]])
_TITLE_AT, _ACCOUNT_AT = CTA_FIELDS.index("title"), CTA_FIELDS.index("account")


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
