import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tandem.accounts.models import LifecycleStage, StakeholderRole, Tier
from tandem.support.models import TicketStatus
from tandem.timeline.models import InteractionKind
from tandem.usage.eventstore import Event, EventStore
from tandem.users.services import user_create
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactRoleFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    TicketFactory,
    UserFactory,
    as_fixture,
)

pytestmark = pytest.mark.django_db
LIST_URL = "/accounts/"


@pytest.fixture(autouse=True)
def _english_and_fresh_cache(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def csm():
    # An account manager: by default the only non-manager role that sees contract values, which
    # these tests check (tests/access covers what a CSM sees).
    with as_fixture():
        return user_create(
            acting_user=None,
            username="casey",
            password=None,
            first_name="Casey",
            last_name="Ng",
            roles=["account_manager"],
        )


@pytest.fixture
def csm_client(client, csm):
    client.force_login(csm)
    return client


def row_names(response) -> list[str]:
    """Account names in the rendered table body, in order."""
    body = response.content.decode()
    tbody = body[body.index("<tbody") : body.index("</tbody>")]
    return re.findall(r'<a [^>]*href="/accounts/\d+/"[^>]*>([^<]+)</a>', tbody)


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST_URL, "/accounts/1/", "/accounts/1/usage-chart/"])
def test_pages_require_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_a_user_without_a_role_is_refused(client, user):
    client.force_login(user)

    assert client.get(LIST_URL).status_code == 403


def test_the_named_urls_resolve_to_the_documented_paths():
    assert reverse("accounts:list") == "/accounts/"
    assert reverse("accounts:detail", args=[7]) == "/accounts/7/"
    assert reverse("accounts:usage_chart", args=[7]) == "/accounts/7/usage-chart/"


# --- list ---------------------------------------------------------------------------------------


def test_list_search_returns_exactly_the_matches(csm_client):
    AccountFactory(name="Globex", domain="globex.example")
    AccountFactory(name="Initech", external_id="globex-legacy")
    AccountFactory(name="Hooli")

    response = csm_client.get(LIST_URL, {"q": "globex"})

    assert response.status_code == 200
    assert row_names(response) == ["Globex", "Initech"]
    assert b'value="globex"' in response.content  # the search box keeps the query


def test_list_filters_combine(csm_client, csm):
    AccountFactory(name="Mine enterprise", csm_owner=csm, tier=Tier.ENTERPRISE, country="JP")
    AccountFactory(name="Mine smb", csm_owner=csm, tier=Tier.SMB, country="JP")
    AccountFactory(name="Other enterprise", tier=Tier.ENTERPRISE, country="JP")

    response = csm_client.get(LIST_URL, {"csm_owner": csm.pk, "tier": "enterprise", "country": "JP"})

    assert row_names(response) == ["Mine enterprise"]


def test_list_filters_by_stage_and_shows_stage_badges(csm_client):
    AccountFactory(name="New one", lifecycle_stage=LifecycleStage.ONBOARDING)
    AccountFactory(name="Old one", lifecycle_stage=LifecycleStage.MATURE)

    response = csm_client.get(LIST_URL, {"lifecycle_stage": "onboarding"})

    assert row_names(response) == ["New one"]
    assert b'<span class="badge stage-onboarding">Onboarding</span>' in response.content


def test_list_sorts_by_arr_descending_and_formats_money(csm_client):
    AccountFactory(name="Small", arr=Decimal("1200.00"))
    AccountFactory(name="Big", arr=Decimal("1234567.50"))
    AccountFactory(name="Medium", arr=Decimal("50000.00"))

    response = csm_client.get(LIST_URL, {"sort": "-arr"})

    assert row_names(response) == ["Big", "Medium", "Small"]
    assert "$1,234,567.50" in response.content.decode()


def test_list_sorts_renewals_soonest_first_with_no_renewal_last(csm_client):
    AccountFactory(name="None", renewal_date=None)
    AccountFactory(name="Later", renewal_date=dt.date(2026, 5, 1))
    AccountFactory(name="Sooner", renewal_date=dt.date(2026, 1, 1))

    ascending = csm_client.get(LIST_URL, {"sort": "renewal_date"})
    descending = csm_client.get(LIST_URL, {"sort": "-renewal_date"})

    assert row_names(ascending) == ["Sooner", "Later", "None"]
    assert row_names(descending) == ["Later", "Sooner", "None"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("tier", ["Ent", "Mid", "Small"]),
        ("-tier", ["Small", "Mid", "Ent"]),
        ("country", ["Mid", "Small", "Ent"]),  # DE, FR, US
        ("lifecycle_stage", ["Small", "Ent", "Mid"]),  # adoption, mature, onboarding
        ("-name", ["Small", "Mid", "Ent"]),
    ],
)
def test_list_sorts_by_tier_country_stage_and_name(csm_client, sort, expected):
    AccountFactory(name="Ent", tier=Tier.ENTERPRISE, country="US", lifecycle_stage="mature")
    AccountFactory(name="Mid", tier=Tier.MID_MARKET, country="DE", lifecycle_stage="onboarding")
    AccountFactory(name="Small", tier=Tier.SMB, country="FR", lifecycle_stage="adoption")

    assert row_names(csm_client.get(LIST_URL, {"sort": sort})) == expected


def test_list_paginates_fifty_per_page_without_counting(csm_client):
    AccountFactory.create_batch(51)

    first = csm_client.get(LIST_URL)
    second = csm_client.get(LIST_URL, {"page": 2})

    assert len(row_names(first)) == 50
    assert row_names(second) == ["Account " + row_names(second)[0].split()[-1]]
    assert 'href="?page=2"' in first.content.decode()
    assert "Page 2" in second.content.decode()
    assert 'rel="next"' not in second.content.decode()


def test_htmx_request_gets_only_the_table_and_the_sort_input(csm_client):
    AccountFactory(name="Globex")

    response = csm_client.get(LIST_URL, {"q": "glo", "sort": "-arr"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="account-filter"' not in html
    assert html.lstrip().startswith('<p class="list-total')  # the total, then the table
    assert '<div class="table-container"' in html
    assert row_names(response) == ["Globex"]
    assert 'id="account-sort"' in html and 'hx-swap-oob="true"' in html and 'value="-arr"' in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_full_page(csm_client):
    response = csm_client.get(LIST_URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})

    assert b"<html" in response.content


def test_sort_and_page_links_are_htmx_links_that_work_without_js(csm_client):
    AccountFactory.create_batch(51)

    html = csm_client.get(LIST_URL, {"q": "Account"}).content.decode()

    assert 'href="?q=Account&amp;sort=-name"' in html  # name is the current sort, so next is desc
    assert 'hx-get="?q=Account&amp;sort=arr"' in html
    assert 'hx-get="?q=Account&amp;page=2"' in html
    assert html.count('hx-target="closest .table-container"') >= 6
    form = html[
        html.index('<form id="account-filter"') : html.index("</form>", html.index('<form id="account-filter"'))
    ]
    assert 'method="get"' in form and 'hx-get="/accounts/"' in form and 'hx-push-url="true"' in form


def test_list_query_count_does_not_grow_with_rows(csm_client, django_assert_num_queries):
    owners = [UserFactory() for _ in range(3)]
    for n in range(60):
        AccountFactory(csm_owner=owners[n % 3], am_owner=owners[(n + 1) % 3], country="DE")

    # session, user, user permissions, group permissions, access rule (roles, rule), owner choices,
    # country codes, segment choices, page rows
    with django_assert_num_queries(11):  # with the total count
        response = csm_client.get(LIST_URL, {"sort": "-arr"})
    assert len(row_names(response)) == 50
    # The country list is cached: the next request needs one query fewer.
    with django_assert_num_queries(10):
        csm_client.get(LIST_URL, {"q": "Account", "csm_owner": owners[0].pk})


# --- detail -------------------------------------------------------------------------------------


@pytest.fixture
def acme(csm):
    today = timezone.localdate()
    am = UserFactory(first_name="Mai", last_name="Tanaka")
    parent = AccountFactory(name="Acme Holdings")
    account = AccountFactory(
        name="Acme Logistics",
        parent=parent,
        tier=Tier.ENTERPRISE,
        lifecycle_stage=LifecycleStage.ADOPTION,
        currency="EUR",
        arr=Decimal("31806.00"),
        renewal_date=today + dt.timedelta(days=44),
        csm_owner=csm,
        am_owner=am,
        start_date=dt.date(2023, 2, 1),
    )
    AccountFactory(name="Acme Nordics", parent=account)
    subscription = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=today - dt.timedelta(days=100),
        end_date=today + dt.timedelta(days=43),
        mrr=Decimal("2454.17"),
        arr=Decimal("29450.04"),
    )
    SubscriptionItemFactory(
        subscription=subscription,
        product=ProductFactory(code="growth", name="Growth plan"),
        quantity=Decimal("31"),
        unit_price=Decimal("950"),
    )
    SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=today - dt.timedelta(days=465),
        end_date=today - dt.timedelta(days=101),
        status="ended",
        arr=Decimal("4920.00"),
    )
    laura = ContactFactory(account=account, first_name="Laura", last_name="Chen", is_primary=True)
    ContactRoleFactory(contact=laura, role=StakeholderRole.EXECUTIVE_SPONSOR)
    ContactFactory(
        account=account,
        first_name="Pieter",
        last_name="Jansen",
        still_at_company=False,
        left_on=dt.date(2025, 10, 13),
    )
    now = timezone.now()
    call = InteractionFactory(
        account=account,
        kind=InteractionKind.QBR,
        subject="Q3 business review",
        author=csm,
        summary="Talked about the SSO rollout.",
        occurred_at=now - dt.timedelta(days=1),
    )
    with as_fixture():
        call.contacts.add(laura)
    TicketFactory(account=account, subject="Old question", status=TicketStatus.SOLVED, satisfaction=4, opened_at=now)
    TicketFactory(
        account=account,
        subject="SSO login fails",
        status=TicketStatus.OPEN,
        priority="urgent",
        opened_at=now - dt.timedelta(days=5),
    )
    return account


def test_account_page_shows_the_customer_360(csm_client, acme):
    response = csm_client.get(f"/accounts/{acme.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Acme Logistics · Tandem</title>" in html
    assert '<strong class="figure" data-testid="account-arr">$31,806.00</strong>' in html
    assert '<span class="muted native-arr">€29,450.04</span>' in html
    assert "in 44 days" in html
    assert "Casey Ng" in html and "Mai Tanaka" in html
    assert "Feb 1, 2023" in html  # customer since
    assert ">Acme Holdings</a>" in html and ">Acme Nordics</a>" in html
    # Contacts: primary flag and role badge; the one who left is marked with the date.
    assert '<span class="badge primary-flag">Primary</span>' in html
    assert '<span class="badge role-executive_sponsor">Executive sponsor</span>' in html
    assert 'class="contact has-left"' in html and "Left on Oct 13, 2025" in html
    # Subscriptions: current and past terms, line items in the contract currency.
    assert html.count('<article class="term') == 2
    assert '<span class="badge status-current">Current</span>' in html
    assert "Growth plan" in html and "€950.00" in html and "€29,450.00" in html
    # Timeline and tickets, open tickets first.
    assert "Q3 business review" in html and re.search(
        r"with <a href=\"/accounts/contacts/\d+/\" dir=\"auto\">Laura Chen</a>", html
    )
    assert html.index("SSO login fails") < html.index("Old question")
    assert "4/5" in html
    # The usage chart is fetched lazily.
    assert f'hx-get="/accounts/{acme.pk}/usage-chart/" hx-trigger="load"' in html


def test_account_page_query_count_is_fixed(csm_client, acme, django_assert_num_queries):
    # session, user, 2 permission lookups, access rule (roles, rule), account (+owners, parent),
    # children, contacts, contact roles, subscriptions, line items (+products), whether the reader
    # may change the account, the timeline (colleagues for its filter, interactions with their
    # contacts and attachments, events, pinned entries), tickets, the custom fields' definitions and
    # the account's segments
    with django_assert_num_queries(22):
        csm_client.get(f"/accounts/{acme.pk}/")
    for _n in range(5):
        extra = ContactFactory(account=acme)
        ContactRoleFactory(contact=extra, role=StakeholderRole.CHAMPION)
        with as_fixture():
            InteractionFactory(account=acme).contacts.add(extra)
        TicketFactory(account=acme, contact=extra)
    with django_assert_num_queries(22):
        csm_client.get(f"/accounts/{acme.pk}/")


def test_missing_account_is_404(csm_client):
    assert csm_client.get("/accounts/999999/").status_code == 404
    assert csm_client.get("/accounts/999999/usage-chart/").status_code == 404


# --- usage chart --------------------------------------------------------------------------------


def test_usage_chart_renders_inline_svg_without_scripts(csm_client, event_store: EventStore):
    account = AccountFactory()
    now = timezone.now()
    event_store.append(
        [
            Event(account_id=account.pk, event="route_planned", ts=now - dt.timedelta(days=d), user_id=f"u{d % 3}")
            for d in range(0, 60)
        ]
    )

    response = csm_client.get(f"/accounts/{account.pk}/usage-chart/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count("<svg") == 2
    assert "<?xml" not in html and "<script" not in html
    assert "Weekly events by feature" in html and "Weekly active users" in html
    assert "route_planned" in html


def test_usage_chart_escapes_event_names(csm_client, event_store: EventStore):
    account = AccountFactory()
    event_store.append(
        [Event(account_id=account.pk, event="<img src=x onerror=alert(1)>", ts=timezone.now(), user_id="u")]
    )

    html = csm_client.get(f"/accounts/{account.pk}/usage-chart/", headers={"HX-Request": "true"}).content.decode()

    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_usage_chart_labels_follow_the_language(csm_client, event_store: EventStore):
    account = AccountFactory()
    event_store.append([Event(account_id=account.pk, event="login", ts=timezone.now(), user_id="u")])
    csm_client.post("/i18n/setlang/", {"language": "ja", "next": "/"})

    html = csm_client.get(f"/accounts/{account.pk}/usage-chart/", headers={"HX-Request": "true"}).content.decode()

    # Week labels are formatted by Babel for Japanese ("5月26日" style).
    assert re.search(r"\d{1,2}月\d{1,2}日", html)


def test_usage_chart_empty_state(csm_client, event_store: EventStore):
    account = AccountFactory()

    response = csm_client.get(f"/accounts/{account.pk}/usage-chart/", headers={"HX-Request": "true"})

    assert b"<svg" not in response.content
    assert b"No product usage recorded in the last 26 weeks." in response.content


def test_usage_chart_without_htmx_is_a_full_page(csm_client, event_store: EventStore):
    account = AccountFactory(name="Initech")

    response = csm_client.get(f"/accounts/{account.pk}/usage-chart/")

    assert b"<html" in response.content and b"Initech" in response.content
