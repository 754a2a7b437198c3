"""Triggers on the customer database: renewals, surveys, milestones, interactions, stakeholders, tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy, gettext_noop

from tandem.accounts.models import Account, ContactRole, LifecycleStage, StakeholderRole
from tandem.notifications.messages import Message, Msgid
from tandem.playbooks.rules.context import EvalContext, Matches, days_ago, trigger
from tandem.success.models import SuccessMilestone
from tandem.support.models import Ticket
from tandem.surveys.models import NpsResponse
from tandem.timeline.models import Interaction

# --- the customer database -------------------------------------------------------------------


@trigger("renewal_within", gettext_lazy("Renewal in N days"), days=90, min_days=0)
def _renewal_within(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    start = ctx.today + dt.timedelta(days=int(p.get("min_days", 0)))
    end = ctx.today + dt.timedelta(days=int(p["days"]))
    rows = Account.objects.filter(renewal_date__gte=start, renewal_date__lte=end).values_list("id", "renewal_date")
    return {
        aid: Msgid(gettext_noop("Renews on %(date)s (in %(days)s days).")) % {"date": d, "days": (d - ctx.today).days}
        for aid, d in rows
        if d is not None  # always: the range excludes accounts without a renewal date
    }


@trigger("nps_detractor", gettext_lazy("NPS detractor response"), days=30, max_score=6)
def _nps_detractor(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    rows = (
        NpsResponse.objects.filter(responded_at__gte=days_ago(ctx, p["days"]), score__lte=int(p["max_score"]))
        .values_list("account_id", "score")
        .order_by("account_id", "score")
    )
    out: Matches = {}
    for aid, score in rows:  # the lowest score of each account comes first
        out.setdefault(aid, Msgid(gettext_noop("NPS detractor: scored %(score)s.")) % {"score": score})
    return out


@trigger("milestone_overdue", gettext_lazy("A success milestone is overdue"), grace_days=0)
def _milestone_overdue(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    cutoff = ctx.today - dt.timedelta(days=int(p["grace_days"]))
    rows = (
        SuccessMilestone.objects.filter(completed_at__isnull=True, due_date__lt=cutoff)
        .values_list("account_id", "title", "due_date")
        .order_by("account_id", "-due_date")
    )
    return {
        aid: Msgid(gettext_noop("Milestone “%(title)s” was due %(date)s.")) % {"title": t, "date": d}
        for aid, t, d in rows
    }


@trigger("no_interaction", gettext_lazy("No interaction for N days"), days=45)
def _no_interaction(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    days = int(p["days"])
    last = ctx.memo(
        "last_interaction",
        lambda: dict(
            Interaction.objects.exclude(external_id__startswith="cta:")  # CTA outcomes logged by Tandem
            .values("account_id")
            .annotate(last=Max("occurred_at"))
            .values_list("account_id", "last")
        ),
    )
    cutoff = days_ago(ctx, days)
    started = (
        Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .filter(Q(start_date__lte=ctx.today - dt.timedelta(days=days)) | Q(start_date__isnull=True))
        .values_list("id", flat=True)
    )
    out: Matches = {}
    for aid in started:
        when = last.get(aid)
        if when is None:
            out[aid] = Message(gettext_noop("No interaction logged yet."))
        elif when < cutoff:
            out[aid] = Msgid(gettext_noop("No interaction for %(days)s days.")) % {
                "days": (ctx.today - when.date()).days
            }
    return out


@trigger(
    "stakeholder_left",
    gettext_lazy("A champion or executive sponsor left"),
    days=30,
    roles=["champion", "executive_sponsor"],
)
def _stakeholder_left(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    rows = ContactRole.objects.filter(
        role__in=list(p["roles"]),
        contact__still_at_company=False,
        contact__left_on__gte=ctx.today - dt.timedelta(days=int(p["days"])),
    ).values_list("contact__account_id", "contact__first_name", "contact__last_name", "role", "contact__left_on")
    labels = dict(StakeholderRole.choices)  # ContactRole.role's choices
    return {
        aid: Msgid(gettext_noop("%(role)s %(name)s left on %(date)s."))
        % {"role": labels.get(role, role), "name": f"{f} {last}".strip(), "date": left}
        for aid, f, last, role, left in rows
    }


@trigger("new_account", gettext_lazy("New account (onboarding)"), days=14)
def _new_account(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    since = ctx.today - dt.timedelta(days=int(p["days"]))
    rows = Account.objects.filter(start_date__gte=since, start_date__lte=ctx.today).values_list("id", "start_date")
    return {aid: Msgid(gettext_noop("Customer since %(date)s.")) % {"date": d} for aid, d in rows}


@trigger(
    "ticket_volume", gettext_lazy("Ticket volume or an urgent ticket"), count=5, days=30, priority="", open_only=False
)
def _ticket_volume(ctx: EvalContext, p: dict[str, Any]) -> Matches:
    qs = Ticket.objects.filter(opened_at__gte=days_ago(ctx, p["days"]))
    if p.get("priority"):
        qs = qs.filter(priority=p["priority"])
    if p.get("open_only"):
        from tandem.support.models import OPEN_TICKET_STATUSES

        qs = qs.filter(status__in=OPEN_TICKET_STATUSES)
    rows = qs.values("account_id").annotate(n=Count("id")).filter(n__gte=int(p["count"])).values_list("account_id", "n")
    return {
        aid: Msgid(gettext_noop("%(n)s tickets in %(days)s days.")) % {"n": n, "days": p["days"]} for aid, n in rows
    }
