"""A success plan end to end in a real Chromium: a CSM builds the plan, a metric-linked milestone
completes itself in the daily pipeline, the CSM shares the plan, the customer opens the link
without a login and reads it in Persian, comments, and the comment is on the account's timeline;
a tampered or expired link is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.audit.context import audit_context
from tandem.daily.services import daily_pipeline_run
from tandem.metrics.models import MetricDefinition, MetricKind
from tandem.success.models import PlanShare, SuccessMilestone
from tandem.usage.eventstore import Event, EventStore
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, as_fixture
from tests.web.test_browser import PASSWORD, RESULTS, VIEWPORT, _async_unsafe_allowed, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _planners(store: EventStore, account_id: int, users: int) -> None:
    now = timezone.now()
    store.append(
        [
            Event(
                account_id=account_id,
                event="route_planned",
                ts=now - dt.timedelta(days=1 + n % 5, hours=1),
                user_id=f"p{n}",
            )
            for n in range(users)
        ]
    )


def test_a_plan_is_built_completes_a_milestone_is_shared_and_the_customer_comments_in_persian(
    live_server,
    browser,  # noqa: F811
    event_store: EventStore,
) -> None:
    RESULTS.mkdir(exist_ok=True)
    base = live_server.url
    with as_fixture():
        csm = user_create(acting_user=None, username="anna", password=PASSWORD, first_name="Anna", roles=["csm"])
        account = AccountFactory(name="Sahand Logistics", csm_owner=csm)
        # Metrics are computed for accounts under contract.
        SubscriptionFactory(account=account, start_date=timezone.localdate() - dt.timedelta(days=60), end_date=None)
        darya = ContactFactory(
            account=account, first_name="Darya", last_name="Karimi", email="darya@sahand.example", language="fa"
        )
        metric = MetricDefinition.objects.create(
            key="planners_28d", name="Route planners (28 days)", kind=MetricKind.DISTINCT_USERS, window_days=28
        )
    _planners(event_store, account.pk, 3)

    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "anna")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")

    # --- the plan: an outcome measured by the metric, and a milestone that completes itself
    page.goto(f"{base}/success/accounts/{account.pk}/plan/")
    page.click("summary:has-text('Add a desired outcome')")
    page.fill("#outcome-title", "40 people plan their routes in Sahand every week")
    page.select_option("#outcome-kpi_kind", "metric")
    page.select_option("#outcome-metric", str(metric.pk))
    page.fill("#outcome-baseline", "3")
    page.fill("#outcome-target", "40")
    page.click("form[action$='/outcomes/'] button[type=submit]")
    page.wait_for_url(f"{base}/success/accounts/{account.pk}/plan/")
    page.click("summary:has-text('Add a milestone')")
    page.fill("#milestone-title", "10 planners active")
    page.fill("#milestone-due_date", (timezone.localdate() + dt.timedelta(days=30)).isoformat())
    page.select_option("#milestone-outcome", index=1)
    page.select_option("#milestone-metric", str(metric.pk))
    page.fill("#milestone-threshold", "10")
    page.click("form[action$='/milestones/new/'] button[type=submit]")
    page.wait_for_url(f"{base}/success/accounts/{account.pk}/plan/")
    assert "completes itself when Route planners (28 days) reaches 10" in page.inner_text("[data-testid=milestone]")

    # --- usage grows; the daily pipeline's metrics and milestones steps run
    _planners(event_store, account.pk, 12)
    with audit_context(via="job"):
        daily_pipeline_run(acting_user=None, today=timezone.localdate())
    milestone = SuccessMilestone.objects.get()
    assert milestone.completed_at is not None and milestone.reached_value == 12
    page.reload()
    assert "Reached" in page.inner_text("[data-testid=milestone]")
    assert "now 12" in page.inner_text("[data-testid=kpi-now]")

    # --- share it with Darya (her language is Persian)
    page.click("summary:has-text('Share with a contact')")
    page.select_option("#share-contact", str(darya.pk))
    page.fill("#share-days", "14")
    page.click("form[action$='/plan/shares/'] button[type=submit]")
    page.wait_for_url(f"{base}/success/accounts/{account.pk}/plan/#shares")
    link = page.input_value("[data-testid=share-url]")
    assert link.startswith(f"{base}/shared/plans/")
    page.screenshot(path=str(RESULTS / "plan-shares.png"), full_page=True)

    # --- the customer: another browser, no login, an English browser locale
    customer = browser.new_context(viewport={"width": 900, "height": 900}, locale="en-US").new_page()
    response = customer.goto(link)
    assert response is not None and response.status == 200
    assert customer.get_attribute("html", "lang") == "fa"
    assert customer.get_attribute("html", "dir") == "rtl"
    assert "موفقیت" in customer.inner_text("h1")  # "success", in Persian
    assert "40 people plan their routes" in customer.inner_text("[data-testid=outcome]")
    assert customer.locator("form[action*='/login']").count() == 0
    customer.fill("#id_body", "آیا می‌توانیم آموزش را به اردیبهشت منتقل کنیم؟")
    customer.click("form.comment button[type=submit]")
    customer.wait_for_url(f"{link}?sent=1")
    assert "آیا می‌توانیم آموزش" in customer.inner_text("[data-testid=comments]")
    customer.screenshot(path=str(RESULTS / "plan-shared-fa.png"), full_page=True)

    # --- the comment is on the account's timeline, for the CSM
    page.goto(f"{base}/accounts/{account.pk}/")
    timeline = page.locator("#timeline, [data-testid=timeline]").first
    timeline.wait_for()
    assert "Darya Karimi commented on the success plan" in page.content()
    assert "آیا می‌توانیم آموزش" in page.content()

    # --- a tampered link and an expired one are refused
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = link.replace(token, token[:-3] + ("xyz" if not token.endswith("xyz") else "abc"))
    response = customer.goto(tampered)
    assert response is not None and response.status == 404
    assert customer.get_attribute("[data-testid=refused]", "data-problem") == "invalid"
    PlanShare.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = customer.goto(link)
    assert response is not None and response.status == 410
    assert customer.get_attribute("[data-testid=refused]", "data-problem") == "expired"
    assert customer.get_attribute("html", "lang") == "fa"
