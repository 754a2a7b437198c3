"""Set-up without the demo, in a real Chromium: an admin invites a CSM and an AM, installs the shipped
playbooks, writes an email template and a rule with the condition builder, and previews it; the CSM
sets her password from the invitation and closes the CTA the rule opened."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.accounts.models import Tier
from tandem.playbooks.models import CallToAction, CtaStatus, EmailTemplate, Playbook, Rule
from tandem.playbooks.services import rules_evaluate
from tandem.users.models import User
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture
from tests.web.test_browser import PASSWORD, RESULTS, VIEWPORT, _async_unsafe_allowed, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_up_a_fresh_company_in_the_browser(live_server, browser) -> None:  # noqa: F811
    RESULTS.mkdir(exist_ok=True)
    with as_fixture():
        user_create(acting_user=None, username="ada", password=PASSWORD, roles=["admin"])
    account = AccountFactory(name="Acme Logistics", tier=Tier.ENTERPRISE, arr=Decimal("250000"))
    ContactFactory(account=account, first_name="Ana", email="ana@acme.test")
    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.set_default_timeout(30_000)  # a loaded CI machine: the preview is a query over every account
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Invite a CSM (with a set-password link) and an AM (with an initial password).
    page.click(".primary-nav >> text=Settings")
    page.click("text=Users")
    for username, role, password in (("cara", "csm", ""), ("amir", "account_manager", "a-long-initial-pass")):
        page.fill("#id_username", username)
        page.fill("#id_email", f"{username}@example.test")
        page.check(f"input[name=roles][value={role}]")
        if password:
            page.fill("#id_password", password)
        page.click("[data-testid=invite-form] button[type=submit]")
        page.wait_for_selector(f"text={username}@example.test")
        if not password:
            link = page.locator("[data-testid=set-password-link] code").inner_text()
            assert "/set-password/" in link
    assert set(User.objects.values_list("username", flat=True)) == {"ada", "cara", "amir"}

    # Install the shipped library in one click.
    page.goto(f"{live_server.url}/settings/")
    page.click("[data-testid=library-callout] >> text=Install the shipped library")
    page.click("[data-testid=library-form] button[type=submit]")
    page.wait_for_selector("text=Installed: 10 playbooks")
    assert Playbook.objects.count() == 10 and Rule.objects.count() == 15
    page.screenshot(path=str(RESULTS / "setup-library.png"), full_page=True)

    # Write an email template and preview it on the sample account.
    page.goto(f"{live_server.url}/playbooks/templates/new/")
    page.fill("#id_name", "Quarterly hello")
    page.fill("#id_subject", "News for {{ account.name }}")
    page.fill("#id_body", "Hi {{ contact.first_name }},\n\nhere is what is new.")
    page.click("[data-testid=template-preview]")
    page.wait_for_selector("[data-testid=email-preview] >> text=News for Acme Logistics")
    assert "Hi Ana," in page.locator("[data-testid=email-preview]").inner_text()
    page.click("text=Save email template")
    page.wait_for_selector("text=Email template saved.")
    assert EmailTemplate.objects.filter(name="Quarterly hello").exists()

    # A rule with the condition builder, previewed before it is saved.
    page.goto(f"{live_server.url}/playbooks/rules/new/")
    page.fill("#id_name", "Enterprise accounts without a recent touch")
    page.select_option("#id_trigger", "no_interaction")
    # The first trigger has a "days" field too: wait for the swapped builder, not only for the field,
    # or the next click lands on a button that the swap is about to remove.
    page.wait_for_selector("input[name=trigger_was][value=no_interaction]", state="attached")
    page.fill("#id_param-days", "30")
    page.click("[data-testid=add-condition]")
    page.wait_for_selector("[data-testid=condition-row]")
    page.select_option("#id_cond-0-value", ["enterprise"])
    page.click("[data-testid=add-condition]")
    page.wait_for_selector("#id_cond-1-subject")
    page.select_option("#id_cond-1-subject", "field:arr")
    page.wait_for_selector("#id_cond-1-value[type=number]")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_cond-1-op", "gte")
    page.fill("#id_cond-1-value", "100000")
    page.select_option("#id_playbook", label="Executive business review")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=preview-count] >> text=1 account matches now.")
    assert "Acme Logistics" in page.locator("#rule-preview").inner_text()
    page.screenshot(path=str(RESULTS / "setup-rule-builder.png"), full_page=True)
    page.click("button[value=save]")
    page.wait_for_selector("text=Rule saved.")
    rule = Rule.objects.get(name="Enterprise accounts without a recent touch")
    assert rule.conditions == [
        {"field": "tier", "op": "in", "value": ["enterprise"]},
        {"field": "arr", "op": "gte", "value": 100000.0},
    ]
    assert re.search(r"/playbooks/rules/\d+/$", page.url)

    # The admin gives the account to the CSM they invited, on the account's edit form.
    page.goto(f"{live_server.url}/accounts/{account.pk}/edit/")
    cara = User.objects.get(username="cara")
    page.select_option("#id_csm_owner", str(cara.pk))
    page.click("#account-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/{account.pk}/")
    account.refresh_from_db()
    assert account.csm_owner == cara
    page.close()

    # The rules run (the daily job a worker runs calls this service): the new rule opens a CTA.
    with as_fixture():
        report = rules_evaluate(acting_user=None, today=timezone.localdate())
    cta = CallToAction.objects.get(account=account, rule=rule)
    assert report.opened >= 1 and cta.owner == cara and cta.status == CtaStatus.OPEN

    # The CSM sets her password with the invitation link, finds the CTA in My day and closes it.
    csm = browser.new_page(viewport=VIEWPORT, locale="en-US")
    csm.set_default_timeout(30_000)
    csm.goto(link)
    csm.fill("#id_new_password1", "cara-chooses-a-long-one")
    csm.fill("#id_new_password2", "cara-chooses-a-long-one")
    csm.click(".login-card button[type=submit]")
    csm.wait_for_url(f"{live_server.url}/login/")
    csm.fill("#id_username", "cara")
    csm.fill("#id_password", "cara-chooses-a-long-one")
    csm.click(".login-card button[type=submit]")
    csm.wait_for_url(f"{live_server.url}/")
    csm.click(".primary-nav >> text=My day")
    row = csm.locator("[data-testid=queue-row]", has_text="Acme Logistics")
    row.locator("a").first.click()
    csm.wait_for_url(f"{live_server.url}/playbooks/ctas/{cta.pk}/")
    assert "Enterprise accounts without a recent touch" in csm.content()
    mark_done = csm.locator("[data-testid=cta-task] button", has_text="Mark done")
    assert mark_done.count() >= 1
    while mark_done.count():  # the playbook's to-dos (its email steps wait for their own button)
        done = csm.locator(".cta-task.task-done").count()
        mark_done.first.click()
        csm.wait_for_function(f"() => document.querySelectorAll('.cta-task.task-done').length === {done + 1}")
    csm.select_option("#id_outcome", "success")
    csm.fill("#id_reason", "EBR booked with the sponsor.")
    csm.click("#close-form button[type=submit]")
    csm.wait_for_selector("[data-testid=cta-outcome]")
    cta.refresh_from_db()
    assert (cta.status, cta.outcome) == (CtaStatus.CLOSED, "success")
    csm.screenshot(path=str(RESULTS / "setup-cta-closed-by-csm.png"), full_page=True)
    csm.close()
