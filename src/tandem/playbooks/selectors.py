"""Reads: the work queues ("My day", team, pools) and a CTA with its tasks.

Queue order (docs/playbooks.md): the CTA's priority first (critical ... low), then overdue ones,
then by ``priority_score * urgency`` where
``priority_score`` = ARR at stake * risk (fixed when the CTA opened) and urgency is 3 when due within
3 days, 2 within 14 days, else 1. Queues read only open rows through partial indexes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from tandem.access.scoping import restrict
from tandem.accounts.models import live_account_q
from tandem.playbooks.models import OPEN_Q, CallToAction, CtaStatus, CtaTask, Rule, StepKind, TaskStatus, WorkPool
from tandem.users.models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.accounts.models import Account
    from tandem.opportunities.models import Opportunity

WORK_KINDS = [StepKind.TASK, StepKind.EMAIL]


def _open_work() -> Q:
    """Open CTAs of live accounts: what the queues count and list. Archiving an account closes its
    CTAs; the account filter guards the reads all the same (docs/daily-work.md, "Archive")."""
    # OPEN_Q repeats the partial indexes' own predicate so the planner may use them (see models.py);
    # without it SQLite walks every CTA of the owner, closed ones too.
    return OPEN_Q & live_account_q()


def _visible_open(today: dt.date) -> Q:
    return _open_work() & (Q(status=CtaStatus.OPEN) | Q(status=CtaStatus.SNOOZED, snoozed_until__lte=today))


def queue_order(qs: QuerySet[CallToAction], *, today: dt.date) -> QuerySet[CallToAction]:
    urgency = Case(
        When(due_date__lte=today + dt.timedelta(days=3), then=Value(3.0)),
        When(due_date__lte=today + dt.timedelta(days=14), then=Value(2.0)),
        default=Value(1.0),
        output_field=FloatField(),
    )
    return qs.annotate(
        overdue=Case(When(due_date__lt=today, then=Value(1)), default=Value(0), output_field=IntegerField()),
        rank=ExpressionWrapper(F("priority_score") * urgency, output_field=FloatField()),
        tasks_total=Count("tasks", filter=Q(tasks__kind__in=WORK_KINDS)),
        tasks_done=Count("tasks", filter=Q(tasks__kind__in=WORK_KINDS, tasks__status=TaskStatus.DONE)),
    ).order_by("-priority", "-overdue", "-rank", "due_date", "id")


def my_day(*, user: User, today: dt.date, limit: int = 100) -> list[CallToAction]:
    """The user's open CTAs in queue order (snoozed ones reappear on their day)."""
    qs = CallToAction.objects.filter(_visible_open(today), owner=user).select_related("account", "rule")
    return list(queue_order(qs, today=today)[:limit])


@dataclass
class QueueSummary:
    total: int
    overdue: int
    top: list[CallToAction] = field(default_factory=list)


def queue_summary(*, user: User, today: dt.date, limit: int = 10) -> QueueSummary:
    base = CallToAction.objects.filter(_visible_open(today), owner=user)
    counts = base.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today)))
    return QueueSummary(counts["total"], counts["overdue"], my_day(user=user, today=today, limit=limit))


@dataclass
class TeamRow:
    user_id: int | None
    name: str
    open: int
    overdue: int
    due_today: int
    closed: int = 0  # closed within the outcome window (team_queues' ``closed_days``)
    on_time: int = 0  # of those, closed by their due date (SLA met)

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def _day_start(today: dt.date, days_back: int) -> dt.datetime:
    """The start of the day ``days_back`` days ago, in the company's time zone: a range on
    ``closed_at`` that SQL compares as it is (``closed_at__date`` is a function per row on SQLite)."""
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_back), dt.time.min))


def team_queues(*, today: dt.date, closed_days: int = 365) -> list[TeamRow]:
    """Per owner: open, overdue (SLA breached) and due-today CTAs, and those closed in the last
    ``closed_days`` with how many met their due date; unassigned as its own row."""
    rows = (
        CallToAction.objects.filter(_open_work())
        .values("owner_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(due_date__lt=today)),
            due_today=Count("id", filter=Q(due_date=today)),
        )
    )
    closed = {
        r["owner_id"]: r
        for r in CallToAction.objects.filter(status=CtaStatus.CLOSED, closed_at__gte=_day_start(today, closed_days))
        .values("owner_id")
        .annotate(closed=Count("id"), on_time=Count("id", filter=Q(closed_at__date__lte=F("due_date"))))
    }
    owners = {r["owner_id"] for r in rows} | set(closed)
    users = User.objects.in_bulk([o for o in owners if o])
    open_by_owner = {r["owner_id"]: r for r in rows}
    out = []
    for owner in owners:
        o: Mapping[str, Any] = open_by_owner.get(owner, {})
        c: Mapping[str, Any] = closed.get(owner, {})
        out.append(
            TeamRow(
                owner,
                str(users[owner]) if owner else "",
                o.get("open", 0),
                o.get("overdue", 0),
                o.get("due_today", 0),
                c.get("closed", 0),
                c.get("on_time", 0),
            )
        )
    return sorted(out, key=lambda r: (-r.overdue, -r.open, r.name))


@dataclass
class OutcomeSummary:
    closed: int
    on_time: int
    outcomes: list[tuple[str, str, int]]  # (value, label, count), every outcome

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def cta_outcomes(*, today: dt.date, days: int = 365) -> OutcomeSummary:
    """CTAs closed in the last ``days``: how many met their due date, and their outcomes."""
    from tandem.playbooks.models import CtaOutcome

    qs = CallToAction.objects.filter(status=CtaStatus.CLOSED, closed_at__gte=_day_start(today, days))
    totals = qs.aggregate(closed=Count("id"), on_time=Count("id", filter=Q(closed_at__date__lte=F("due_date"))))
    counts = dict(qs.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    return OutcomeSummary(
        closed=totals["closed"],
        on_time=totals["on_time"],
        outcomes=[(value, str(label), counts.get(value, 0)) for value, label in CtaOutcome.choices],
    )


def sla_breaches(*, today: dt.date, limit: int = 25) -> list[CallToAction]:
    """The longest-overdue open CTAs across the team."""
    return list(
        CallToAction.objects.filter(_open_work(), status=CtaStatus.OPEN, due_date__lt=today)
        .select_related("account", "owner")
        .order_by("due_date", "-priority_score")[:limit]
    )


def pool_queue(*, pool: WorkPool, today: dt.date, limit: int = 100) -> list[CallToAction]:
    qs = CallToAction.objects.filter(_visible_open(today), pool=pool).select_related("account", "owner")
    return list(queue_order(qs, today=today)[:limit])


def cta_detail(*, cta_id: int) -> CallToAction:
    return CallToAction.objects.select_related("account", "owner", "rule", "playbook", "pool").get(pk=cta_id)


def cta_tasks(*, cta_id: int) -> list[CtaTask]:
    return list(
        CtaTask.objects.filter(cta_id=cta_id)
        .select_related("assignee", "email", "step__email_template")
        .order_by("position")
    )


def cta_list(
    *,
    user: User | AnonymousUser,
    account_id: int | None = None,
    status: str | None = None,
    owner_id: int | None = None,
    open_only: bool = False,
) -> QuerySet[CallToAction]:
    """CTAs this person may see, soonest due first: the REST API's list and the account page's."""
    qs = CallToAction.objects.select_related("owner")
    if open_only:
        qs = qs.filter(OPEN_Q)
    for name, value in (("account_id", account_id), ("status", status), ("owner_id", owner_id)):
        if value is not None:
            qs = qs.filter(**{name: value})
    return restrict(qs, user=user).order_by("due_date", "id")


def account_open_ctas(*, user: User | AnonymousUser, account_id: int) -> list[CallToAction]:
    return list(cta_list(user=user, account_id=account_id, open_only=True))


def rule_list() -> QuerySet[Rule]:
    # A correlated count on the partial (rule, account) unique index: a join would visit every
    # closed CTA of every rule.
    open_ctas = (
        CallToAction.objects.filter(OPEN_Q, rule=OuterRef("pk"))
        .order_by()
        .values("rule")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Rule.objects.select_related("playbook", "pool")
        .annotate(open_ctas=Coalesce(Subquery(open_ctas, output_field=IntegerField()), 0))
        .order_by("name")
    )


def cta_expansion_opportunity(*, cta_id: int) -> Opportunity | None:
    """The opportunity an expansion CTA was handed over as, if any."""
    from tandem.opportunities.models import Opportunity, OpportunitySource

    return Opportunity.objects.filter(source=OpportunitySource.CTA, source_ref=f"cta:{cta_id}").first()


def library_status() -> dict[str, tuple[int, int]]:
    from tandem.playbooks import catalog
    from tandem.playbooks.models import EmailTemplate, Playbook

    """How much of the shipped library is installed: (installed, shipped) per kind."""
    return {
        "email_templates": (
            EmailTemplate.objects.filter(key__in=list(catalog.TEMPLATES)).count(),
            len(catalog.TEMPLATES),
        ),
        "playbooks": (Playbook.objects.filter(key__in=list(catalog.PLAYBOOKS)).count(), len(catalog.PLAYBOOKS)),
        "rules": (Rule.objects.filter(key__in=[r[0] for r in catalog.RULES]).count(), len(catalog.RULES)),
    }


@dataclass
class EmailPreview:
    subject: str
    body: str
    account: Account | None
    values: dict[str, str]
    error: str = ""
    sample: bool = True  # the account was picked as an example, not asked for


def email_preview(*, subject: str, body: str, user: User, account: Account | None = None) -> EmailPreview:
    """The subject and body filled for ``account`` (else a sample account the user may see, with a contact).

    Unknown placeholders are not an error here: the preview names them so the writer can fix them.
    """
    from tandem.access.scoping import restrict
    from tandem.accounts.models import Account, Contact
    from tandem.playbooks import emails

    sample = account is None
    if account is None:
        with_contact = Contact.objects.filter(still_at_company=True).exclude(email="").values("account_id")
        account = (
            restrict(Account.objects.filter(pk__in=with_contact), user=user).order_by("-arr", "id").first()
            or restrict(Account.objects.all(), user=user).order_by("-arr", "id").first()
        )
    contact = None
    if account is not None:
        account = Account.objects.select_related("csm_owner", "am_owner").get(pk=account.pk)
        contact = (
            Contact.objects.filter(account=account, still_at_company=True)
            .exclude(email="")
            .order_by("-is_primary", "id")
            .first()
        )
        values = emails.placeholder_values(account=account, contact=contact, sender=user)
    else:
        values = {name: f"[{name}]" for name in emails.PLACEHOLDERS}
    unknown = emails.unknown_placeholders(f"{subject}\n{body}")
    if unknown:
        from django.utils.translation import gettext as _

        error = _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)}
        return EmailPreview(subject, body, account, values, error, sample)
    return EmailPreview(emails.render(subject, values), emails.render(body, values), account, values, "", sample)
