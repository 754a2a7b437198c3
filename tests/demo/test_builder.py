"""The built demo in the database and the event store."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.db.models import F

from tandem.accounts.models import Account, Contact, ContactRole, LifecycleStage, StakeholderRole
from tandem.core.money import to_cents
from tandem.demo.builder import DemoRefused, DemoResult, build_demo
from tandem.demo.catalog import DEMO_PASSWORD
from tandem.subscriptions.models import (
    ExchangeRate,
    Product,
    ProductKind,
    Subscription,
    SubscriptionStatus,
)
from tandem.subscriptions.selectors import exchange_rates_as_of, subscriptions_current
from tandem.support.models import Ticket
from tandem.timeline.models import Interaction, InteractionKind
from tandem.usage.eventstore import EventStore
from tandem.users.models import User
from tandem.users.roles import Role, user_roles
from tests.demo.conftest import SMALL, TODAY
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _snapshot(store: EventStore) -> tuple[list[tuple], int]:
    accounts = list(Account.objects.order_by("external_id").values_list("name", "arr", "tier"))
    return accounts, store.count()


def test_same_seed_rebuilds_identically_and_another_seed_differs(event_store: EventStore, tmp_path: Path, fast_hashing):
    build_demo(seed=5, home=tmp_path, **SMALL)
    first = _snapshot(event_store)
    first_ids = sorted(Account.objects.values_list("id", flat=True))
    build_demo(seed=5, home=tmp_path, **SMALL)
    again = _snapshot(event_store)
    build_demo(seed=6, home=tmp_path, **SMALL)
    other = _snapshot(event_store)

    assert first == again
    assert sorted(Account.objects.values_list("id", flat=True)) == first_ids  # ids restart too
    assert [a[0] for a in other[0]] != [a[0] for a in first[0]]
    assert Account.objects.count() == SMALL["accounts"]  # the rebuild replaced, not added


def test_contains_every_kind_of_record(small_demo: DemoResult, event_store: EventStore):
    products = Product.objects.all()
    assert sorted(products.filter(kind=ProductKind.PLAN).values_list("code", flat=True)) == [
        "enterprise",
        "growth",
        "starter",
    ]
    assert products.filter(kind=ProductKind.ADDON).count() == 2
    assert set(Account.objects.values_list("tier", flat=True)) == {"enterprise", "mid_market", "smb"}
    currencies = set(Account.objects.values_list("currency", flat=True))
    assert len(currencies) >= 2
    assert currencies - {"USD"} <= set(ExchangeRate.objects.values_list("currency", flat=True))
    assert ExchangeRate.objects.filter(currency="EUR").count() == 37  # monthly over 3 years
    assert Account.objects.filter(parent__isnull=False).exists()
    assert set(Account.objects.values_list("lifecycle_stage", flat=True)) == set(LifecycleStage)
    assert not Subscription.objects.exclude(currency=F("account__currency")).exists()
    assert Ticket.objects.filter(priority="urgent").exists()
    assert Ticket.objects.filter(satisfaction__isnull=False).exists()
    assert set(Interaction.objects.values_list("kind", flat=True)) == set(InteractionKind)
    assert event_store.count() == small_demo.events
    assert len(event_store.event_names()) >= 8


def test_contacts_have_roles_one_primary_and_some_champions_left(small_demo: DemoResult):
    per_account = defaultdict(int)
    primaries = defaultdict(int)
    for account_id, is_primary in Contact.objects.values_list("account_id", "is_primary"):
        per_account[account_id] += 1
        primaries[account_id] += is_primary
    assert min(per_account.values()) >= 3 and max(per_account.values()) <= 10
    assert set(primaries.values()) == {1}
    assert set(ContactRole.objects.values_list("role", flat=True)) == set(StakeholderRole)
    gone = ContactRole.objects.filter(role=StakeholderRole.CHAMPION, contact__still_at_company=False)
    assert gone.exists()
    assert not gone.filter(contact__left_on__isnull=True).exists()
    assert not Contact.objects.filter(still_at_company=True, left_on__isnull=False).exists()


def test_team_logs_in_with_the_demo_password_and_owns_accounts(small_demo: DemoResult):
    admin = User.objects.get(username="admin")
    assert admin.check_password(DEMO_PASSWORD) and admin.is_superuser
    roles = [r for u in User.objects.all() for r in user_roles(u)]
    assert roles.count(Role.CSM) == 8 and roles.count(Role.ACCOUNT_MANAGER) == 4
    assert {Role.CS_MANAGER, Role.READ_ONLY} <= set(roles)
    assert not Account.objects.filter(csm_owner__isnull=True).exists()
    assert not Account.objects.filter(am_owner__isnull=True).exists()


def test_onboarding_accounts_are_new_with_sessions_and_little_usage(small_demo: DemoResult, event_store: EventStore):
    onboarding = Account.objects.filter(lifecycle_stage=LifecycleStage.ONBOARDING)
    assert onboarding.count() >= 2
    for account in onboarding:
        assert (TODAY - account.start_date).days <= 60
        assert account.interactions.filter(kind=InteractionKind.ONBOARDING).exists()
    mature = Account.objects.filter(lifecycle_stage=LifecycleStage.MATURE, tier="smb")
    per_day = {a.pk: event_store.count(account_id=a.pk) / (TODAY - a.start_date).days for a in [*onboarding, *mature]}
    assert np.mean([per_day[a.pk] for a in onboarding]) < np.mean([per_day[a.pk] for a in mature])


def test_churned_accounts_ended_then_canceled_with_no_revenue(small_demo: DemoResult):
    churned = Account.objects.filter(lifecycle_stage=LifecycleStage.CHURNED)
    assert churned.count() >= 3
    for account in churned:
        terms = list(account.subscriptions.order_by("start_date"))
        assert terms[-1].status == SubscriptionStatus.CANCELED
        assert terms[-1].end_date < TODAY
        assert {t.status for t in terms[:-1]} <= {SubscriptionStatus.ENDED}
        assert account.arr == 0 and account.renewal_date is None
    assert Subscription.objects.filter(status=SubscriptionStatus.ENDED).exists()


def test_account_revenue_is_the_converted_sum_of_current_terms(small_demo: DemoResult):
    rates = exchange_rates_as_of(on=TODAY)
    expected: dict[int, Decimal] = defaultdict(Decimal)
    for sub in subscriptions_current(on=TODAY):
        expected[sub.account_id] += sub.mrr * rates[sub.currency]
    accounts = list(Account.objects.all())

    assert all(a.mrr == to_cents(expected.get(a.pk, Decimal(0))) for a in accounts)
    assert all(a.arr == a.mrr * 12 for a in accounts)
    assert sum(a.arr > 0 for a in accounts) == len(expected)


def test_usage_fades_before_churn(small_demo: DemoResult, event_store: EventStore):
    """Weekly events in the 90 days before a churn are fewer than in the 90 days before that,
    and fall more than non-churners' usage over their last 180 days."""

    def weekly(account_id: int, end: dt.date) -> tuple[float, float]:
        counts = event_store.daily_counts(account_id=account_id, start=end - dt.timedelta(days=180), end=end)
        split = end - dt.timedelta(days=90)
        late = sum(c.events for c in counts if c.day >= split and c.event != "api_call")
        early = sum(c.events for c in counts if c.day < split and c.event != "api_call")
        return early / (90 / 7), late / (90 / 7)

    churners, stayers = [], []
    for account in Account.objects.all():
        if account.lifecycle_stage == LifecycleStage.CHURNED:
            end = account.subscriptions.order_by("-end_date").first().end_date
            if (end - account.start_date).days > 270:
                churners.append(weekly(account.pk, end))
        elif (TODAY - account.start_date).days > 270:
            stayers.append(weekly(account.pk, TODAY))

    assert len(churners) >= 5
    churn_early, churn_late = np.mean(churners, axis=0)
    _stay_early, stay_late = np.mean(stayers, axis=0)
    assert churn_late < 0.8 * churn_early
    assert churn_late < stay_late
    churn_ratio = np.median([late / early for early, late in churners if early])
    stay_ratio = np.median([late / early for early, late in stayers if early])
    assert churn_ratio < stay_ratio - 0.15


def test_ground_truth_and_marker_are_saved(small_demo: DemoResult, tmp_path: Path):
    health = pq.read_table(tmp_path / "demo_ground_truth.parquet")
    renewals = pq.read_table(tmp_path / "demo_renewals.parquet").to_pylist()
    marker = json.loads((tmp_path / "demo.json").read_text())

    assert set(health.column("account_id").to_pylist()) == set(Account.objects.values_list("id", flat=True))
    churned_ids = set(Account.objects.filter(lifecycle_stage=LifecycleStage.CHURNED).values_list("id", flat=True))
    assert {r["account_id"] for r in renewals if r["outcome"] == "churn" and r["realized"]} == (churned_ids)
    assert marker["seed"] == 42 and marker["today"] == "2025-06-15"
    assert marker["events"] == small_demo.events


def test_refuses_a_database_with_other_accounts_unless_forced(event_store: EventStore, tmp_path: Path, fast_hashing):
    own = AccountFactory(name="Real customer")

    with pytest.raises(DemoRefused, match="did not create"):
        build_demo(seed=1, home=tmp_path, **SMALL)

    assert list(Account.objects.all()) == [own]
    assert not Product.objects.exists() and not User.objects.exists()
    assert event_store.count() == 0
    assert not (tmp_path / "demo.json").exists()

    result = build_demo(seed=1, home=tmp_path, force=True, **SMALL)
    assert Account.objects.count() == SMALL["accounts"] + 1
    assert Account.objects.filter(pk=own.pk, name="Real customer").exists()
    assert event_store.count() == result.events
