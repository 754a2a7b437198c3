"""Writes a DemoPlan: Django rows in bulk, usage events to the event store, ground truth to Parquet.

Nothing here calls a per-row service: rows are built in memory and written through the owning
apps' bulk services (``account_bulk_upsert``, ``contact_bulk_upsert``, ``subscription_bulk_upsert``,
``ticket_bulk_upsert``, ``interaction_bulk_create``), the same ones imports use, in one transaction
opened by the builder; that is what keeps the default demo under a minute. Each records its rows'
creation entries in the audit history (via "system", the builder's path); the links between
interactions and their people are not itemised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model, QuerySet
from django.utils import timezone

from tandem.accounts.models import Account, Contact, ContactRole
from tandem.accounts.services import StageMove, account_bulk_upsert, account_stage_history_record, contact_bulk_upsert
from tandem.demo.catalog import (
    DEMO_PASSWORD,
    EXTERNAL_ID_PREFIX,
    MARKETS,
    PRODUCTS,
    TEAM,
    USER_EMAIL_DOMAIN,
)
from tandem.demo.plan import AccountPlan, Calendar, DemoPlan
from tandem.subscriptions.models import ExchangeRate, Product, Subscription, SubscriptionItem
from tandem.subscriptions.services import (
    exchange_rate_bulk_upsert,
    subscription_bulk_upsert,
    subscription_totals,
)
from tandem.support.models import Ticket
from tandem.support.services import ticket_bulk_upsert
from tandem.timeline.models import Interaction, TimelineEvent
from tandem.timeline.services import interaction_bulk_create
from tandem.usage.eventstore import EventStore
from tandem.users.models import User
from tandem.users.services import user_create

Advance = Callable[[int], None]
M = TypeVar("M", bound=Model)
BATCH = 2000


def _noop(_n: int) -> None:
    return None


class _Steps:
    """The services' progress interface over the builder's ``advance`` callback (rows written)."""

    def __init__(self, advance: Advance) -> None:
        self._advance = advance

    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        self._advance(amount)


# --- clearing ------------------------------------------------------------------------------------


def demo_accounts() -> QuerySet[Account]:
    return Account.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)


def non_demo_accounts() -> QuerySet[Account]:
    return Account.objects.exclude(external_id__startswith=EXTERNAL_ID_PREFIX)


def demo_users() -> QuerySet[User]:
    return User.objects.filter(username__in=[m.username for m in TEAM], email__endswith=f"@{USER_EMAIL_DOMAIN}")


def clear_database(*, keep_others: bool) -> list[int]:
    """Delete every demo row; returns the ids the demo accounts had (their events go too).

    The bulky children are deleted first with set-based DELETEs; the final Account delete still
    goes through Django's collector so rows other apps hang off accounts are cleaned up as well.
    """
    accounts = demo_accounts()
    old_ids = list(accounts.values_list("id", flat=True))
    TimelineEvent.objects.filter(account__in=accounts).delete()
    Interaction.users.through.objects.filter(interaction__account__in=accounts).delete()
    Interaction.contacts.through.objects.filter(interaction__account__in=accounts).delete()
    Interaction.objects.filter(account__in=accounts).delete()
    Ticket.objects.filter(account__in=accounts).delete()
    SubscriptionItem.objects.filter(subscription__account__in=accounts).delete()
    Subscription.objects.filter(account__in=accounts).delete()
    ContactRole.objects.filter(contact__account__in=accounts).delete()
    Contact.objects.filter(account__in=accounts).delete()
    accounts.delete()
    demo_users().delete()
    if not keep_others:
        currencies = {m.currency for m in MARKETS} - {"USD"}
        ExchangeRate.objects.filter(currency__in=currencies).delete()
        _reset_sequences()
    return old_ids


def _reset_sequences() -> None:
    """Restart ids at 1 when the demo tables are empty, so a rebuild gives the same ids (and the
    same URLs and event-store account ids) as the first build."""
    models: list[type[Model]] = [
        Account,
        Contact,
        ContactRole,
        Subscription,
        SubscriptionItem,
        Ticket,
        Interaction,
        Interaction.users.through,
        Interaction.contacts.through,
        ExchangeRate,
    ]
    if any(model._default_manager.exists() for model in models):
        return
    sequences = [{"table": m._meta.db_table, "column": m._meta.pk.column} for m in models]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
            cursor.execute(sql)


def clear_events(store: EventStore, *, account_ids: list[int] | None) -> None:
    """Empty the event store, or with ``account_ids`` only drop those accounts' events."""
    if account_ids is None:
        store.delete_all()
        return
    if account_ids:
        store.delete(account_ids=account_ids)


# --- reference data ------------------------------------------------------------------------------


def write_team() -> dict[str, User]:
    """The demo team through the users service, all sharing one password hash (hashing it once
    instead of 15 times saves seconds)."""
    users: dict[str, User] = {}
    for member in TEAM:
        users[member.username] = user_create(
            acting_user=None,
            username=member.username,
            password=None,
            email=f"{member.username}@{USER_EMAIL_DOMAIN}",
            first_name=member.first_name,
            last_name=member.last_name,
            roles=[member.role],
        )
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(password=make_password(DEMO_PASSWORD))
    return users


def write_products() -> dict[str, Product]:
    products: dict[str, Product] = {}
    for spec in PRODUCTS:
        products[spec.code], _created = Product.objects.update_or_create(
            code=spec.code,
            defaults={"name": spec.name, "kind": spec.kind, "unit_label": spec.unit_label, "is_active": True},
        )
    return products


def write_rates(plan: DemoPlan, *, keep_existing: bool) -> int:
    rows = [
        ExchangeRate(currency=currency, valid_from=valid_from, rate=rate)
        for currency, history in plan.rates.items()
        for valid_from, rate in history
    ]
    if keep_existing:  # the rates already there are kept (the builder's transaction holds the write lock)
        stored = set(ExchangeRate.objects.filter(currency__in=plan.rates).values_list("currency", "valid_from"))
        rows = [r for r in rows if (r.currency, r.valid_from) not in stored]
    exchange_rate_bulk_upsert(acting_user=None, creates=rows, updates=[], now=timezone.now())
    return len(rows)


# --- customers -----------------------------------------------------------------------------------


def write_accounts(
    plan: DemoPlan, users: dict[str, User], advance: Advance = _noop
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Accounts, contacts and their roles. Returns database ids of accounts (by plan index) and
    of contacts (by account, then slot)."""
    cal = plan.calendar
    rows = [
        Account(
            name=a.name,
            domain=a.domain,
            external_id=a.external_id,
            crm_id=f"001DM{a.index + 1:010d}",
            billing_id=f"cus_demo{a.index + 1:06d}",
            industry=a.industry,
            country=a.market.country,
            currency=a.market.currency,
            tier=a.tier,
            lifecycle_stage=a.lifecycle,
            csm_owner=users[a.csm],
            am_owner=users[a.am],
            start_date=cal.date(a.start_day),
        )
        for a in plan.accounts
    ]
    parents: dict[str | None, str] = {
        a.external_id: plan.accounts[a.parent_index].external_id for a in plan.accounts if a.parent_index is not None
    }
    now = timezone.now()
    account_bulk_upsert(
        acting_user=None, creates=rows, updates=[], fields=[], new_parent_of=parents, now=now, progress=_Steps(advance)
    )
    account_ids = np.array([r.pk for r in rows], dtype=np.int64)
    account_stage_history_record(
        moves=[
            move for a, pk in zip(plan.accounts, account_ids.tolist(), strict=True) for move in _stage_moves(a, pk, cal)
        ]
    )

    contacts: list[Contact] = []
    for a, pk in zip(plan.accounts, account_ids.tolist(), strict=True):
        for c in sorted(a.contacts, key=lambda c: c.slot):
            contacts.append(
                Contact(
                    account_id=pk,
                    external_id=f"{a.external_id}-c{c.slot:02d}",
                    first_name=c.first_name,
                    last_name=c.last_name,
                    email=c.email,
                    phone=c.phone,
                    title=c.title,
                    is_primary=c.is_primary,
                    still_at_company=c.left_day is None,
                    left_on=cal.date(c.left_day) if c.left_day is not None else None,
                )
            )
    planned_roles = [c.roles for a in plan.accounts for c in sorted(a.contacts, key=lambda c: c.slot)]
    contact_bulk_upsert(
        acting_user=None,
        creates=contacts,
        updates=[],
        fields=[],
        roles=[(contact, roles) for contact, roles in zip(contacts, planned_roles, strict=True) if roles],
        now=now,
        progress=_Steps(advance),
    )
    contact_ids: list[np.ndarray] = []
    position = 0
    for a in plan.accounts:
        count = len(a.contacts)
        contact_ids.append(np.array([c.pk for c in contacts[position : position + count]], dtype=np.int64))
        position += count
    return account_ids, contact_ids


# Days after its start an account enters each later stage (the simulation's ages, see _finish).
ADOPTION_AFTER_DAYS, MATURE_AFTER_DAYS = 61, 366


def _stage_moves(a: AccountPlan, account_id: int, cal: Calendar) -> list[StageMove]:
    """The lifecycle stages the account went through up to today, each on the day it entered it:
    onboarding when it started, adoption and maturity as it aged, churned on its first day
    without a contract; the last one is the stage it was written with."""
    churned = a.churn_day is not None and a.churn_day <= cal.days
    end = a.churn_day if churned and a.churn_day is not None else cal.days + 1
    steps = [(a.start_day, "onboarding")]
    steps += [
        (a.start_day + days, stage)
        for days, stage in ((ADOPTION_AFTER_DAYS, "adoption"), (MATURE_AFTER_DAYS, "mature"))
    ]
    entered = [(day, stage) for day, stage in steps if day < end]
    if churned:
        entered.append((end, "churned"))
    moves, before = [], ""
    for day, stage in entered:
        moves.append(
            StageMove(account_id=account_id, on=cal.at(day, 9.5, a.market.utc_offset), after=stage, before=before)
        )
        before = stage
    return moves


def write_subscriptions(
    plan: DemoPlan, account_ids: np.ndarray, products: dict[str, Product], advance: Advance = _noop
) -> int:
    cal = plan.calendar
    subs: list[Subscription] = []
    lines: list[list[SubscriptionItem]] = []
    for a, pk in zip(plan.accounts, account_ids.tolist(), strict=True):
        for n, term in enumerate(a.terms):
            end = cal.date(term.end_day) if term.end_day is not None else None
            if term.status == "canceled":
                renewal = None
            elif end is not None:
                renewal = end + dt.timedelta(days=1)
            else:  # evergreen monthly: bills every month but never comes up for renewal
                renewal = None
            sub = Subscription(
                account_id=pk,
                external_id=f"{a.external_id}-s{n + 1:02d}",
                currency=a.market.currency,
                billing_period=term.billing_period,
                start_date=cal.date(term.start_day),
                end_date=end,
                renewal_date=renewal,
                auto_renew=term.auto_renew,
                status=term.status,
            )
            items = [
                SubscriptionItem(product=products[i.code], quantity=i.quantity, unit_price=i.unit_price)
                for i in term.items
            ]
            sub.mrr, sub.arr = subscription_totals(subscription=sub, items=items)
            subs.append(sub)
            lines.append(items)
    # Revenue is refreshed once for every account by the builder, after all terms are in.
    subscription_bulk_upsert(
        acting_user=None,
        creates=subs,
        updates=[],
        fields=[],
        lines=list(zip(subs, lines, strict=True)),
        today=plan.calendar.today,
        now=timezone.now(),
        progress=_Steps(advance),
    )
    return len(subs)


def write_activity(
    plan: DemoPlan,
    account_ids: np.ndarray,
    contact_ids: list[np.ndarray],
    users: dict[str, User],
    advance: Advance = _noop,
) -> tuple[int, int]:
    """Tickets and timeline interactions (with their team-member and contact links)."""
    tickets: list[Ticket] = []
    interactions: list[Interaction] = []
    people: list[tuple[list[int], list[int]]] = []
    for a, pk in zip(plan.accounts, account_ids.tolist(), strict=True):
        contacts = contact_ids[a.index]
        for n, t in enumerate(sorted(a.tickets, key=lambda t: t.opened_at)):
            tickets.append(
                Ticket(
                    account_id=pk,
                    contact_id=int(contacts[t.contact_slot]) if t.contact_slot is not None else None,
                    external_id=f"{a.external_id}-t{n + 1:04d}",
                    subject=t.subject,
                    priority=t.priority,
                    status=t.status,
                    opened_at=t.opened_at,
                    closed_at=t.closed_at,
                    satisfaction=t.satisfaction,
                )
            )
        for i in sorted(a.interactions, key=lambda i: i.occurred_at):
            interactions.append(
                Interaction(
                    account_id=pk,
                    kind=i.kind,
                    occurred_at=i.occurred_at,
                    subject=i.subject,
                    summary=i.summary,
                    duration_minutes=i.duration_minutes,
                    author=users[i.author],
                )
            )
            people.append(([users[u].pk for u in i.users], [int(c) for c in contacts[list(i.contact_slots)]]))
    now = timezone.now()
    ticket_bulk_upsert(acting_user=None, creates=tickets, updates=[], fields=[], now=now, progress=_Steps(advance))
    interaction_bulk_create(
        acting_user=None, interactions=interactions, people=people, now=now, progress=_Steps(advance)
    )
    return len(tickets), len(interactions)


# --- events and ground truth ---------------------------------------------------------------------


def write_events(
    plan: DemoPlan,
    store: EventStore,
    account_ids: np.ndarray,
    contact_ids: list[np.ndarray],
    advance: Advance = _noop,
) -> int:
    from tandem.demo.events import generate

    total = 0
    for table in generate(plan, account_ids=account_ids, contact_ids=contact_ids):
        total += store.append_arrow(table)
        advance(table.num_rows)
    return total


def write_ground_truth(plan: DemoPlan, account_ids: np.ndarray, home: Path) -> tuple[Path, Path]:
    """The hidden process, for backtests: monthly latent health and every renewal decision."""
    cal = plan.calendar
    a_idx, m_idx = np.nonzero(~np.isnan(plan.health))
    health = plan.health[a_idx, m_idx]
    external = np.array([a.external_id for a in plan.accounts])
    tiers = np.array([a.tier for a in plan.accounts])
    months = np.array([cal.month_date(m) for m in range(cal.months)])
    monthly = pa.table(
        {
            "account_id": account_ids[a_idx],
            "external_id": external[a_idx],
            "tier": tiers[a_idx],
            "month": pa.array(months[m_idx], pa.date32()),
            "health": health,
            "health_score": np.round(100.0 / (1.0 + np.exp(-health)), 1),
            "seats": plan.seats[a_idx, m_idx],
            "csm_touches": plan.touches[a_idx, m_idx],
            "champion_present": plan.champion_present[a_idx, m_idx],
            "sponsor_present": plan.sponsor_present[a_idx, m_idx],
            "winding_down": plan.winding_down[a_idx, m_idx],
        }
    )
    renewals = sorted(plan.renewals, key=lambda r: (r.account, r.renewal_day))
    outcomes = pa.table(
        {
            "account_id": pa.array([int(account_ids[r.account]) for r in renewals], pa.int64()),
            "external_id": [plan.accounts[r.account].external_id for r in renewals],
            "renewal_date": pa.array([cal.date(r.renewal_day) for r in renewals], pa.date32()),
            "decided_on": pa.array([cal.date(r.decided_day) for r in renewals], pa.date32()),
            "health_at_decision": pa.array([r.health_at_decision for r in renewals], pa.float64()),
            "p_churn": pa.array([r.p_churn for r in renewals], pa.float64()),
            "outcome": pa.array([r.outcome for r in renewals], pa.string()),
            "seats_before": pa.array([r.seats_before for r in renewals], pa.int64()),
            "seats_after": pa.array([r.seats_after for r in renewals], pa.int64()),
            "realized": pa.array([r.realized for r in renewals], pa.bool_()),
        }
    )
    home.mkdir(parents=True, exist_ok=True)
    health_path, renewals_path = home / "demo_ground_truth.parquet", home / "demo_renewals.parquet"
    pq.write_table(monthly, health_path)
    pq.write_table(outcomes, renewals_path)
    return health_path, renewals_path
