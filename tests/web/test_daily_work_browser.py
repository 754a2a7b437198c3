"""Daily work in a real Chromium, on a fresh home without demo data.

A CSM creates an account and a contact and logs a call; the account manager opens an expansion
opportunity from the account page through the account picker and edits the contract.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.accounts.models import Account, Contact
from tandem.opportunities.models import Opportunity
from tandem.subscriptions.models import Subscription
from tandem.timeline.models import Interaction
from tandem.users.services import user_create
from tests.factories import ProductFactory, as_fixture
from tests.web.test_browser import PASSWORD, RESULTS, VIEWPORT, _async_unsafe_allowed, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base}/")


def test_a_csm_and_an_am_work_an_account_from_scratch(live_server, browser) -> None:  # noqa: F811
    RESULTS.mkdir(exist_ok=True)
    base = live_server.url
    with as_fixture():
        csm = user_create(acting_user=None, username="casey", password=PASSWORD, first_name="Casey", roles=["csm"])
        am = user_create(
            acting_user=None, username="avery", password=PASSWORD, first_name="Avery", roles=["account_manager"]
        )
    ProductFactory(code="seat", name="Seat")  # the product catalogue comes from billing (import or API)
    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.set_default_timeout(15_000)

    # --- the CSM creates an account they own, with an account manager
    _log_in(page, base, "casey")
    page.click(".primary-nav >> text=Accounts")
    page.click("[data-testid=new-account]")
    page.wait_for_url(f"{base}/accounts/new/")
    page.fill("#id_name", "Northwind Traders")
    page.select_option("#id_tier", "mid_market")
    page.select_option("#id_am_owner", str(am.pk))
    page.click("#account-form button[type=submit]")
    account = Account.objects.get(name="Northwind Traders")
    page.wait_for_url(f"{base}/accounts/{account.pk}/")
    assert (account.csm_owner_id, account.am_owner_id) == (csm.pk, am.pk)

    # --- a contact with a stakeholder role
    page.click("#contacts-heading >> text=Add contact")
    page.fill("#id_first_name", "Dana")
    page.fill("#id_last_name", "Scully")
    page.fill("#id_email", "not-an-email")
    page.click("#contact-form button[type=submit]")
    assert "valid email" in page.locator("#id_email-errors").inner_text()  # on the field; nothing saved
    assert not Contact.objects.exists()
    page.fill("#id_email", "dana@northwind.example")
    page.check("input[name=roles][value=champion]")
    page.screenshot(path=str(RESULTS / "daily-contact-form.png"), full_page=True)
    page.click("#contact-form button[type=submit]")
    contact = Contact.objects.get(email="dana@northwind.example")
    page.wait_for_url(f"{base}/accounts/contacts/{contact.pk}/")
    page.click(".breadcrumbs >> text=Northwind Traders")

    # --- a call with that contact
    page.click("[data-testid=account-actions] >> text=Log activity")
    page.select_option("#id_kind", "call")
    page.fill("#id_subject", "Kick-off call")
    page.fill("#id_summary", "Agreed the onboarding plan.")
    page.check(f"input[name=contacts][value='{contact.pk}']")
    page.click("#log-form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{account.pk}/")
    assert "Kick-off call" in page.locator(".timeline").inner_text()
    assert "Dana Scully" in page.locator(".timeline").inner_text()
    assert list(Interaction.objects.get().contacts.all()) == [contact]
    page.screenshot(path=str(RESULTS / "daily-account-csm.png"), full_page=True)
    assert page.locator("[data-testid=edit-contract]").count() == 0  # contracts are the AM's
    page.click(".logout-form button")

    # --- the account manager opens an expansion opportunity from the account page
    _log_in(page, base, "avery")
    page.goto(f"{base}/accounts/{account.pk}/")
    page.click("[data-testid=account-actions] >> text=New opportunity")
    page.wait_for_url(f"{base}/opportunities/new/?account={account.pk}")
    picker = page.locator("#id_account")
    picker.fill("")
    picker.press_sequentially("north", delay=30)  # the picker suggests as one types
    page.wait_for_function("() => document.querySelectorAll('#id_account-options option').length === 1", polling=100)
    suggestion = page.locator("#id_account-options option").get_attribute("value")
    assert suggestion == f"Northwind Traders (#{account.pk})"
    picker.fill(suggestion)
    page.select_option("#id_kind", "cross_sell")
    page.fill("#id_amount", "6000")
    page.fill("#id_close_date", (timezone.localdate() + dt.timedelta(days=45)).isoformat())
    page.screenshot(path=str(RESULTS / "daily-opportunity-form.png"), full_page=True)
    page.click("#new-opportunity-form button[type=submit]")
    opportunity = Opportunity.objects.get(account=account)
    page.wait_for_url(f"{base}/opportunities/{opportunity.pk}/")
    assert (opportunity.kind, opportunity.amount, opportunity.owner_id) == ("cross_sell", Decimal("6000"), am.pk)

    # --- and edits the contract: a first term, then more seats
    page.goto(f"{base}/accounts/{account.pk}/")
    page.click("#subscriptions-heading >> text=New contract term")
    page.select_option("#id_items-0-product", label="Seat")
    page.fill("#id_items-0-quantity", "10")
    page.fill("#id_items-0-unit_price", "1200")
    page.click("#contract-form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{account.pk}/")
    page.click("[data-testid=edit-contract]")
    page.fill("#id_items-0-quantity", "15")
    page.check("#id_auto_renew")
    page.screenshot(path=str(RESULTS / "daily-contract-form.png"), full_page=True)
    page.click("#contract-form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{account.pk}/")
    term = Subscription.objects.get(account=account)
    assert (term.arr, term.auto_renew) == (Decimal("18000.00"), True)
    assert page.locator("[data-testid=account-arr]").inner_text() == "$18,000.00"
    page.screenshot(path=str(RESULTS / "daily-account-am.png"), full_page=True)
    page.close()
