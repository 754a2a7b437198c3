"""Working together in a real Chromium (issue 13): a mention on an expansion opportunity, the reply,
the exchange on the account timeline; a QBR scheduled with two contacts that reaches a real CalDAV
server (Radicale), the private iCalendar feed and the inbox of a real SMTP receiver as a reminder.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from decimal import Decimal

import icalendar
import pytest
from django.utils import timezone

from tandem.accounts.models import Account, Contact
from tandem.audit.context import audit_context
from tandem.meetings.models import CalDavSettings, Meeting
from tandem.meetings.sync import connect
from tandem.notifications.models import Notification
from tandem.opportunities.services import opportunity_create
from tandem.users.services import user_create
from tests.factories import as_fixture
from tests.meetings.conftest import Radicale, radicale, run_due_jobs  # noqa: F401
from tests.playbooks.conftest import Inbox, smtp  # noqa: F401
from tests.web.test_browser import PASSWORD, RESULTS, VIEWPORT, _async_unsafe_allowed, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, base: str, username: str, locale: str = "en-US"):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base}/")
    return page


def test_an_am_and_a_csm_work_together(live_server, browser, radicale: Radicale, smtp: Inbox, settings) -> None:  # noqa: F811
    RESULTS.mkdir(exist_ok=True)
    base = live_server.url
    settings.TANDEM_BASE_URL = base
    with as_fixture():
        casey = user_create(
            acting_user=None,
            username="casey",
            password=PASSWORD,
            first_name="Casey",
            email="casey@tandem.test",
            roles=["csm"],
        )
        avery = user_create(
            acting_user=None,
            username="avery",
            password=PASSWORD,
            first_name="Avery",
            email="avery@tandem.test",
            roles=["account_manager"],
        )
        account = Account.objects.create(name="Northwind Traders", csm_owner=casey, am_owner=avery)
        dana = Contact.objects.create(account=account, first_name="Dana", last_name="Scully", email="dana@nw.example")
        kim = Contact.objects.create(account=account, first_name="Kim", last_name="Lee", email="kim@nw.example")
    with audit_context(via="fixture"):
        expansion = opportunity_create(
            acting_user=avery,
            account=account,
            kind="upsell",
            amount=Decimal("24000"),
            close_date=timezone.localdate() + dt.timedelta(days=45),
            name="Analytics add-on",
        )

    # --- the AM mentions the CSM on the expansion opportunity, through the autocomplete
    am_page = _signed_in(browser, base, "avery")
    am_page.goto(f"{base}/opportunities/{expansion.pk}/")
    box = am_page.locator("#comment-body-new")
    box.click()
    box.press_sequentially("Can you confirm usage supports this? @cas")
    am_page.locator(".mention-list >> text=casey").click()
    assert box.input_value() == "Can you confirm usage supports this? @casey "
    box.press_sequentially("before Friday.")
    am_page.click(".comment-form:not(:has(input[name=parent])) button[type=submit]")
    am_page.wait_for_selector(".comment-body >> text=before Friday.")
    assert Notification.objects.filter(user=casey).count() == 1

    # --- the CSM sees the notification, follows it and replies
    csm_page = _signed_in(browser, base, "casey")
    assert csm_page.locator("[data-testid=bell]").inner_text().strip() == "1"
    csm_page.click("[data-testid=bell]")
    notification = csm_page.locator("[data-testid=notification]").first
    assert "Avery mentioned you" in notification.inner_text()
    notification.locator("a").click()
    csm_page.wait_for_url(f"{base}/opportunities/{expansion.pk}/*")
    csm_page.wait_for_selector(".comment-body >> text=before Friday.")
    csm_page.click(".reply-box summary")
    reply = csm_page.locator(".reply-box textarea")
    reply.fill("Yes: 48 active seats of 50, and the analytics pages are their most used. @avery")
    csm_page.click(".reply-box button[type=submit]")
    csm_page.wait_for_selector(".comment.reply >> text=48 active seats")
    csm_page.screenshot(path=str(RESULTS / "together-opportunity-thread.png"), full_page=True)

    # --- both see the exchange on the account timeline
    for page in (am_page, csm_page):
        page.goto(f"{base}/timeline/accounts/{account.pk}/timeline/?type=comment")
        entries = page.locator("[data-testid=timeline-item]")
        texts = [entries.nth(i).inner_text() for i in range(entries.count())]
        assert len(texts) == 2, texts
        assert "48 active seats" in texts[0] and "before Friday." in texts[1]
        assert all("Analytics add-on" in t for t in texts)
    am_page.screenshot(path=str(RESULTS / "together-timeline.png"), full_page=True)

    # --- the CSM asks for her notifications by email too (her reminder comes to her inbox)
    csm_page.goto(f"{base}/notifications/")
    csm_page.check("#id_email")
    csm_page.click("form[action$='/notifications/preferences/'] button[type=submit]")
    csm_page.wait_for_selector(".message >> text=Preferences saved.")

    # --- the CSM connects her CalDAV calendar and turns on her feed
    csm_page.goto(f"{base}/meetings/calendar/")
    csm_page.click("text=Create my feed address")
    feed_url = csm_page.locator("[data-testid=feed-url]").input_value()
    csm_page.fill("#id_url", radicale.calendar_url("casey"))
    csm_page.click("text=Save and sync")
    csm_page.wait_for_selector("[data-testid=caldav-status]")
    run_due_jobs()  # the first sync, as the worker runs it

    # --- she schedules the QBR with two contacts from the account page
    csm_page.goto(f"{base}/accounts/{account.pk}/")
    csm_page.click("[data-testid=schedule-meeting]")
    starts = timezone.localtime() + dt.timedelta(minutes=20)
    csm_page.select_option("#id_kind", "qbr")
    csm_page.fill("#id_title", "Q4 business review")
    csm_page.fill("#id_starts_at", starts.strftime("%Y-%m-%dT%H:%M"))
    csm_page.fill("#id_ends_at", (starts + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    csm_page.check(f"input[name=contacts][value='{dana.pk}']")
    csm_page.check(f"input[name=contacts][value='{kim.pk}']")
    csm_page.screenshot(path=str(RESULTS / "together-meeting-form.png"), full_page=True)
    csm_page.click("form button[type=submit].primary")
    meeting = Meeting.objects.get(title="Q4 business review")
    csm_page.wait_for_url(f"{base}/meetings/{meeting.pk}/")

    done, _deferred = run_due_jobs()  # the invitation, the reminder (due: it starts in 20 minutes), the sync
    assert done >= 3

    # On the CalDAV server, once, with both contacts invited.
    [event] = [
        e
        for obj in connect(CalDavSettings.objects.get(user=casey)).events()
        for e in icalendar.Calendar.from_ical(obj.data).walk("VEVENT")
    ]
    assert str(event["uid"]) == meeting.uid and str(event["summary"]) == "Q4 business review"
    attendees = event["attendee"] if isinstance(event["attendee"], list) else [event["attendee"]]
    assert {"mailto:dana@nw.example", "mailto:kim@nw.example"} <= {str(a) for a in attendees}

    # In her private feed.
    with urllib.request.urlopen(feed_url, timeout=10) as response:
        feed = icalendar.Calendar.from_ical(response.read())
    assert [str(e["uid"]) for e in feed.walk("VEVENT") if str(e["summary"]) == "Q4 business review"] == [meeting.uid]

    # The reminder: in the app and in her inbox; the invitations reached the contacts.
    csm_page.goto(f"{base}/notifications/")
    assert csm_page.locator("[data-testid=notification] >> text=Meeting soon: Q4 business review").count() == 1
    recipients = {(str(m["Subject"]), str(m["To"])) for m in smtp.messages}
    assert ("Meeting soon: Q4 business review", "casey@tandem.test") in recipients
    invited = {to for subject, to in recipients if subject == "Invitation: Q4 business review"}
    assert {"dana@nw.example", "kim@nw.example"} <= {a.strip() for to in invited for a in to.split(",")}

    # The meeting is on the account timeline too.
    csm_page.goto(f"{base}/timeline/accounts/{account.pk}/timeline/?type=meeting")
    assert csm_page.locator("[data-testid=timeline-item] >> text=Meeting scheduled: Q4 business review").count() == 1
    csm_page.screenshot(path=str(RESULTS / "together-meeting-timeline.png"), full_page=True)
