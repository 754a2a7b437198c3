import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache

from tandem.access.models import AccessPolicy
from tandem.accounts.models import LifecycleStage, StakeholderRole, Tier
from tandem.accounts.selectors import (
    account_360,
    account_country_codes,
    account_list,
    portfolio_overview,
)
from tandem.subscriptions.models import SubscriptionStatus
from tandem.users.models import User
from tandem.users.services import user_create
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactRoleFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    TicketFactory,
    UserFactory,
    as_fixture,
)

# Reads as an admin: these tests are about filters, not access rules (tests/access).
ADMIN = User(is_superuser=True, is_active=True)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 1)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def names(queryset) -> list[str]:
    return [a.name for a in queryset]


def test_account_list_searches_name_domain_and_external_id_case_insensitively():
    AccountFactory(name="Globex", domain="globex.example", external_id="crm-1")
    AccountFactory(name="Initech", domain="initech.example", external_id="GLOBAL-7")
    AccountFactory(name="Hooli", domain="hooli-globex.example", external_id="x-3")
    AccountFactory(name="Soylent", domain="soylent.example", external_id="x-4")

    assert names(account_list(filters={"q": "GLOB"}, user=ADMIN)) == ["Globex", "Hooli", "Initech"]
    assert names(account_list(filters={"q": "  crm-1 "}, user=ADMIN)) == ["Globex"]
    assert names(account_list(filters={"q": ""}, user=ADMIN)) == ["Globex", "Hooli", "Initech", "Soylent"]


def test_account_list_filters_by_owner_unassigned_tier_stage_and_country():
    alice, bob = UserFactory(), UserFactory()
    AccountFactory(name="A", csm_owner=alice, am_owner=bob, tier=Tier.ENTERPRISE, country="DE")
    AccountFactory(name="B", csm_owner=bob, tier=Tier.SMB, lifecycle_stage=LifecycleStage.MATURE)
    AccountFactory(name="C", csm_owner=None, country="JP", lifecycle_stage=LifecycleStage.MATURE)

    assert names(account_list(filters={"csm_owner": str(alice.pk)}, user=ADMIN)) == ["A"]
    assert names(account_list(filters={"am_owner": str(bob.pk)}, user=ADMIN)) == ["A"]
    assert names(account_list(filters={"csm_owner": "null"}, user=ADMIN)) == ["C"]
    assert names(account_list(filters={"tier": "enterprise"}, user=ADMIN)) == ["A"]
    assert names(account_list(filters={"lifecycle_stage": "mature"}, user=ADMIN)) == ["B", "C"]
    assert names(account_list(filters={"country": "JP"}, user=ADMIN)) == ["C"]
    assert names(account_list(filters={"lifecycle_stage": "mature", "csm_owner": str(bob.pk)}, user=ADMIN)) == ["B"]


def test_account_list_ignores_invalid_filter_values():
    AccountFactory(name="A")
    AccountFactory(name="B")

    assert names(account_list(filters={"tier": "gold", "csm_owner": "999999"}, user=ADMIN)) == ["A", "B"]


def test_country_codes_are_distinct_sorted_and_cached(django_assert_num_queries):
    AccountFactory(country="JP")
    AccountFactory(country="DE")
    AccountFactory(country="JP")
    AccountFactory(country="")

    with django_assert_num_queries(1):
        assert account_country_codes() == ["DE", "JP"]
    AccountFactory(country="VN")
    with django_assert_num_queries(0):
        assert account_country_codes() == ["DE", "JP"]


def test_account_360_collects_terms_contacts_children_and_native_arr(django_assert_num_queries):
    parent = AccountFactory(name="Parent Group")
    account = AccountFactory(
        name="Acme",
        parent=parent,
        currency="EUR",
        arr=Decimal("13200.00"),
        renewal_date=TODAY + dt.timedelta(days=45),
    )
    AccountFactory(name="Acme Sub B", parent=account)
    AccountFactory(name="Acme Sub A", parent=account)
    current = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
        arr=Decimal("12000.00"),
    )
    SubscriptionItemFactory(subscription=current, product=ProductFactory(code="growth"))
    past = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        status=SubscriptionStatus.ENDED,
        arr=Decimal("9000.00"),
    )
    left = ContactFactory(account=account, last_name="Aalto", still_at_company=False, left_on=dt.date(2025, 3, 1))
    primary = ContactFactory(account=account, last_name="Zed", is_primary=True)
    other = ContactFactory(account=account, last_name="Berg")
    ContactRoleFactory(contact=primary, role=StakeholderRole.EXECUTIVE_SPONSOR)
    ContactRoleFactory(contact=primary, role=StakeholderRole.CHAMPION)

    # account, children, contacts, roles, terms, items(+products)
    with django_assert_num_queries(6):
        view = account_360(account_id=account.pk, today=TODAY, user=ADMIN)
        roles = [r.role for r in view.contacts[0].roles.all()]
        items = [i.product.code for t in view.terms for i in t.subscription.items.all()]

    assert view.account.parent == parent
    assert [c.name for c in view.children] == ["Acme Sub A", "Acme Sub B"]
    # Still at the company first, primary leading; people who left last.
    assert view.contacts == [primary, other, left]
    assert roles == ["champion", "executive_sponsor"]
    assert [(t.subscription, t.is_current) for t in view.terms] == [(current, True), (past, False)]
    assert items == ["growth"]
    assert view.native_arr == {"EUR": Decimal("12000.00")}
    assert view.native_arr_other_currencies == {"EUR": Decimal("12000.00")}
    assert view.days_to_renewal == 45
    assert view.days_overdue == 0


def test_account_360_hides_native_arr_in_the_reporting_currency_and_counts_overdue_days():
    account = AccountFactory(currency="USD", renewal_date=TODAY - dt.timedelta(days=3))
    SubscriptionFactory(account=account, currency="USD", arr=Decimal("1200.00"))

    view = account_360(account_id=account.pk, today=TODAY, user=ADMIN)

    assert view.native_arr == {"USD": Decimal("1200.00")}
    assert view.native_arr_other_currencies == {}
    assert view.days_to_renewal == -3
    assert view.days_overdue == 3


def test_account_360_of_a_missing_account_raises():
    from tandem.accounts.models import Account

    with pytest.raises(Account.DoesNotExist):
        account_360(account_id=424242, today=TODAY, user=ADMIN)


def _renewal(account, close_date: dt.date) -> None:
    """An open renewal opportunity: what the home page counts (the renewal center's rows)."""
    from tandem.opportunities.models import Opportunity, OpportunityKind, Stage

    with as_fixture():
        Opportunity.objects.create(
            account=account,
            kind=OpportunityKind.RENEWAL,
            name="Renewal",
            stage=Stage.PROPOSE,
            probability=Decimal("70"),
            amount=account.arr,
            current_arr=account.arr,
            close_date=close_date,
        )


def test_portfolio_overview_of_a_csm_covers_only_accounts_they_own():
    me = user_create(acting_user=None, username="me", password=None, roles=["csm"])
    # A company whose rule shows CSMs contract values (by default it hides them: tests/access).
    AccessPolicy.objects.create(role="csm", see_contract_values=True)
    other = UserFactory()
    renewing = AccountFactory(
        name="Renews soon",
        csm_owner=me,
        arr=Decimal("1000"),
        renewal_date=TODAY + dt.timedelta(days=10),
        lifecycle_stage=LifecycleStage.ADOPTION,
    )
    AccountFactory(
        name="As AM",
        am_owner=me,
        arr=Decimal("500"),
        renewal_date=TODAY + dt.timedelta(days=91),
        lifecycle_stage=LifecycleStage.ONBOARDING,
    )
    AccountFactory(
        name="Lapsed",
        csm_owner=me,
        arr=Decimal("0"),
        renewal_date=TODAY - dt.timedelta(days=1),
        lifecycle_stage=LifecycleStage.MATURE,
    )
    not_mine = AccountFactory(
        name="Not mine", csm_owner=other, arr=Decimal("9999"), renewal_date=TODAY + dt.timedelta(days=5)
    )
    _renewal(renewing, TODAY + dt.timedelta(days=9))
    _renewal(not_mine, TODAY + dt.timedelta(days=4))
    my_ticket = TicketFactory(account=renewing, status="open")
    TicketFactory(account=renewing, status="solved")
    TicketFactory(account=not_mine, status="open")

    overview = portfolio_overview(user=me, today=TODAY)

    assert overview.sees_all is False
    assert overview.account_count == 3
    assert overview.arr == Decimal("1500.00")
    assert overview.onboarding_count == 1
    assert [a.name for a in overview.renewals] == ["Renews soon"]
    assert (overview.renewals_count, overview.renewals_arr) == (1, Decimal("1000.00"))
    assert [a.name for a in overview.onboarding] == ["As AM"]
    assert overview.open_tickets == [my_ticket]


def test_portfolio_overview_of_a_cs_manager_covers_every_account():
    manager = user_create(acting_user=None, username="boss", password=None, roles=["cs_manager"])
    _renewal(AccountFactory(arr=Decimal("100"), renewal_date=TODAY), TODAY - dt.timedelta(days=1))
    _renewal(
        AccountFactory(arr=Decimal("250"), renewal_date=TODAY + dt.timedelta(days=90)), TODAY + dt.timedelta(days=89)
    )

    overview = portfolio_overview(user=manager, today=TODAY)

    assert overview.sees_all is True
    assert (overview.account_count, overview.arr) == (2, Decimal("350.00"))
    assert overview.renewals_count == 2
