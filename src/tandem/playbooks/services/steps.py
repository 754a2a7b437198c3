"""Playbook steps: turn a CTA's next steps into tasks (up to the next wait), and finish waits that are over."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db.models import Count
from django.utils import timezone

from tandem.accounts.models import Account
from tandem.audit.context import write_service
from tandem.audit.services import audit_bulk_created, audit_bulk_update
from tandem.core.bulk import db_value, insert_rows
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.playbooks.models import (
    OPEN_Q,
    CallToAction,
    CtaStatus,
    CtaTask,
    PlaybookStep,
    PoolStrategy,
    StepKind,
    StepRole,
    TaskStatus,
    WorkPool,
)
from tandem.playbooks.rules import (
    condition_holds,
)
from tandem.users.models import User
from tandem.users.roles import Role

if TYPE_CHECKING:
    pass

from tandem.playbooks.services.emails import _EmailToQueue, _queue_emails

ACCOUNT_COLUMNS = ("id", "name", "arr", "tier", "lifecycle_stage", "country", "csm_owner_id", "am_owner_id")


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


# What a task's creation entry shows (see CTA_AUDITED in evaluation.py).
TASK_AUDITED = ("cta", "step", "position", "kind", "assignee", "due_date", "status")

_task_audited = itemgetter(*[TASK_FIELDS.index(name) for name in TASK_AUDITED])

_TASK_TITLE_AT = TASK_FIELDS.index("title")


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
                if not condition_holds(step.condition, account):
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
