"""A CSM works the queue in a real Chromium: My day → a CTA → tick its tasks → close it with an outcome."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.playbooks.models import CallToAction, CtaStatus, StepKind, TaskStatus
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import rules_evaluate
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture
from tests.playbooks.helpers import playbook_with, rule_for
from tests.web.test_browser import PASSWORD, RESULTS, VIEWPORT, _async_unsafe_allowed, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_csm_works_a_cta_from_the_queue_to_closed(live_server, browser) -> None:  # noqa: F811
    RESULTS.mkdir(exist_ok=True)
    today = timezone.localdate()
    with as_fixture():
        csm = user_create(
            acting_user=None, username="dana", password=PASSWORD, first_name="Dana", last_name="Rivera", roles=["csm"]
        )
    big = AccountFactory(
        name="Acme Logistics", arr=Decimal("250000"), renewal_date=today + dt.timedelta(days=10), csm_owner=csm
    )
    AccountFactory(name="Tiny Co", arr=Decimal("3000"), renewal_date=today + dt.timedelta(days=12), csm_owner=csm)
    playbook = playbook_with(
        "renewal",
        [
            {"kind": StepKind.TASK, "title": "Review health with the AM", "due_offset_days": 1},
            {"kind": StepKind.TASK, "title": "Send the renewal proposal", "due_offset_days": 5},
        ],
    )
    rule_for("renewal_within", {"days": 30}, playbook=playbook, name="Renewal in 30 days")
    with as_fixture():
        rules_evaluate(acting_user=None, today=today, providers=Providers())

    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.wait_for_selector("[data-testid=unread-count]")
    assert page.locator("[data-testid=unread-count]").inner_text() == "2"

    page.click(".primary-nav >> text=My day")
    page.wait_for_url(f"{live_server.url}/playbooks/my-day/")
    rows = page.locator("[data-testid=queue-row]")
    assert rows.count() == 2
    assert rows.nth(0).locator("a").inner_text() == "Acme Logistics"  # more ARR at stake comes first
    page.screenshot(path=str(RESULTS / "my-day.png"), full_page=True)

    rows.nth(0).locator("a").click()
    cta = CallToAction.objects.get(account=big)
    page.wait_for_url(f"{live_server.url}/playbooks/ctas/{cta.pk}/")
    tasks = page.locator("[data-testid=cta-task]")
    assert tasks.count() == 2
    for n in range(2):
        page.locator("[data-testid=cta-task] button", has_text="Mark done").first.click()
        page.wait_for_function(f"() => document.querySelectorAll('.cta-task.task-done').length === {n + 1}")
    assert set(cta.tasks.values_list("status", flat=True)) == {TaskStatus.DONE}
    page.screenshot(path=str(RESULTS / "cta-tasks-done.png"), full_page=True)

    page.select_option("#id_outcome", "success")
    page.fill("#id_reason", "Renewed for two years.")
    page.click("#close-form button[type=submit]")
    page.wait_for_selector("[data-testid=cta-outcome]")
    assert page.locator("[data-testid=cta-outcome]").inner_text() == "Success"
    cta.refresh_from_db()
    assert (cta.status, cta.outcome, cta.close_reason) == (CtaStatus.CLOSED, "success", "Renewed for two years.")

    page.click(".primary-nav >> text=My day")
    assert page.locator("[data-testid=queue-row]").count() == 1
    page.close()
