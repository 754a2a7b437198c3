"""End to end: a real Chromium drives the web UI served by a live server.

Needs Debian's chromium at /usr/bin/chromium (Playwright cannot download its own browser here) and,
for readable screenshots, fonts-noto-core and fonts-noto-cjk. Screenshots go to test-results/.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tandem.accounts.models import LifecycleStage, StakeholderRole, Tier
from tandem.usage.eventstore import Event, EventStore
from tandem.users.services import user_create
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactRoleFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    as_fixture,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "correct-horse-battery"


@pytest.fixture
def _async_unsafe_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls would
    # otherwise trip Django's "called from an async context" guard.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_async_unsafe_allowed: None) -> Iterator:
    if os.environ.get("TANDEM_SKIP_BROWSER") == "1":
        pytest.skip("TANDEM_SKIP_BROWSER=1")
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: install Debian's chromium package "
            "(apt-get install chromium) or set TANDEM_SKIP_BROWSER=1 to skip browser tests."
        )
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def acme(event_store: EventStore) -> dict:
    today = timezone.localdate()
    # An account manager, so the page shows contract values (a CSM's rule hides them by default).
    with as_fixture():
        csm = user_create(
            acting_user=None,
            username="dana",
            password=PASSWORD,
            first_name="Dana",
            last_name="Rivera",
            roles=["account_manager"],
        )
    for n in range(30):
        AccountFactory(name=f"Globex {n:02d}", csm_owner=csm)
    account = AccountFactory(
        name="Acme Logistics",
        domain="acme.example",
        tier=Tier.ENTERPRISE,
        lifecycle_stage=LifecycleStage.ADOPTION,
        country="DE",
        currency="EUR",
        arr=Decimal("31806.00"),
        renewal_date=today + dt.timedelta(days=60),
        csm_owner=csm,
    )
    subscription = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=today - dt.timedelta(days=100),
        end_date=today + dt.timedelta(days=59),
        arr=Decimal("29450.04"),
        mrr=Decimal("2454.17"),
    )
    SubscriptionItemFactory(subscription=subscription, quantity=Decimal("31"), unit_price=Decimal("950"))
    laura = ContactFactory(account=account, first_name="Laura", last_name="Chen", is_primary=True)
    ContactRoleFactory(contact=laura, role=StakeholderRole.EXECUTIVE_SPONSOR)
    ContactFactory(
        account=account,
        first_name="Pieter",
        last_name="Jansen",
        still_at_company=False,
        left_on=today - dt.timedelta(days=30),
    )
    now = timezone.now()
    event_store.append(
        [
            Event(account_id=account.pk, event=feature, ts=now - dt.timedelta(days=day, hours=n), user_id=f"u{n}")
            for day in range(0, 180, 2)
            for feature, per_day in (("login", 6), ("route_planned", 4), ("report_run", 2))
            for n in range(per_day + day // 30)
        ]
    )
    return {"account": account}


def test_log_in_find_an_account_and_read_it_in_persian(live_server, browser, acme) -> None:
    RESULTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-testid=kpi-accounts]").inner_text() == "31"

    page.click(".primary-nav >> text=Accounts")
    page.wait_for_url(f"{live_server.url}/accounts/")
    assert page.locator("#account-results tbody tr").count() == 31
    page.screenshot(path=str(RESULTS / "accounts-list.png"))

    # Searching swaps the table in place (htmx) and puts the query in the address bar.
    page.evaluate("window.__sameDocument = true")
    page.fill("#id_q", "acme")
    # Predicates as functions: a bare expression string is eval()ed in the page, which the CSP forbids.
    page.wait_for_function("() => new URLSearchParams(location.search).get('q') === 'acme'")
    page.wait_for_function("() => document.querySelectorAll('#account-results tbody tr').length === 1")
    assert page.evaluate("window.__sameDocument") is True
    page.click("#account-results tbody >> text=Acme Logistics")

    page.wait_for_url(f"{live_server.url}/accounts/{acme['account'].pk}/")
    assert page.locator("[data-testid=account-arr]").inner_text() == "$31,806.00"
    assert page.locator(".native-arr").inner_text() == "€29,450.04"
    contacts = page.locator(".contacts")
    assert contacts.locator(".contact").count() == 2
    assert "Laura Chen" in contacts.inner_text() and "Executive sponsor" in contacts.inner_text()
    assert contacts.locator(".has-left .name").inner_text() == "Pieter Jansen"
    page.wait_for_selector(".usage-slot .chart svg")  # lazily loaded by htmx
    assert page.locator(".usage-slot .chart svg").count() == 2
    english_brand = page.locator(".brand").bounding_box()
    page.screenshot(path=str(RESULTS / "account-en.png"), full_page=True)

    page.click(".lang-menu summary")
    page.click(".lang-menu button[value=fa]")
    page.wait_for_selector("html[dir=rtl]")

    html = page.locator("html")
    assert (html.get_attribute("dir"), html.get_attribute("lang")) == ("rtl", "fa")
    assert page.url == f"{live_server.url}/accounts/{acme['account'].pk}/"  # back on the same page
    page.wait_for_selector(".usage-slot .chart svg")
    # Mirrored layout: the brand starts at the right edge, the nav sits to its left,
    # and the contacts column moves to the left of the main column.
    persian_brand = page.locator(".brand").bounding_box()
    nav = page.locator(".primary-nav").bounding_box()
    assert english_brand["x"] < 100
    assert persian_brand["x"] + persian_brand["width"] > VIEWPORT["width"] - 100
    assert nav["x"] + nav["width"] <= persian_brand["x"]
    main = page.locator(".account-main").bounding_box()
    side = page.locator(".account-side").bounding_box()
    assert side["x"] < main["x"]
    page.screenshot(path=str(RESULTS / "account-fa.png"), full_page=True)
    page.close()
