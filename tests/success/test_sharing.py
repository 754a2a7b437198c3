"""The success plan shared with the customer: a signed, expiring, revocable link to a read-only page
in the contact's language (right to left included), the customer's comments landing on the
timeline, the optional one-time code, and the plan's HTML and PDF exports."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tandem.core.errors import DomainError
from tandem.jobs.computations import run_computation
from tandem.jobs.models import Computation, JobStatus
from tandem.notifications.models import Notification
from tandem.success.models import PlanComment, PlanShare
from tandem.success.services import outcome_save
from tandem.success.sharing import ShareProblem, ShareRefused, plan_share_create, share_path, share_resolve
from tandem.timeline.models import EventKind, TimelineEvent
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture
from tests.playbooks.conftest import smtp  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.django_db]


def _client(role: Role, name: str) -> tuple[Client, object]:
    with as_fixture():
        user = user_create(acting_user=None, username=name, password=None, roles=[role])
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def account():
    with as_fixture():
        account = AccountFactory(name="Sahand Logistics")
        outcome_save(acting_user=None, account=account, title="Cut reporting time", kpi_kind="reported", target=20)
    return account


def _share(account, *, language: str = "fa", **kwargs) -> PlanShare:
    with as_fixture():
        contact = ContactFactory(account=account, first_name="Darya", last_name="Karimi", language=language)
        return plan_share_create(acting_user=None, account=account, contact=contact, **kwargs)


def test_a_csm_shares_the_plan_and_the_customer_reads_it_in_persian_and_comments(account) -> None:
    client, csm = _client(Role.CSM, "anna")
    with as_fixture():
        account.csm_owner = csm
        account.save(update_fields=["csm_owner"])
        contact = ContactFactory(account=account, first_name="Darya", last_name="Karimi", language="fa")
    response = client.post(f"/success/accounts/{account.pk}/plan/shares/", {"contact": contact.pk, "days": 14})
    assert response.status_code == 302
    share = PlanShare.objects.get()
    assert (share.language, share.created_by) == ("fa", csm)
    assert share.expires_at.date() == (timezone.now() + dt.timedelta(days=14)).date()
    page = client.get(f"/success/accounts/{account.pk}/plan/").content.decode()
    assert f'value="http://testserver{share_path(share)}"' in page

    customer = Client()  # no login
    response = customer.get(share_path(share))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "Cut reporting time" in html and "Sahand Logistics" in html
    assert "برنامه" in html  # "plan" in Persian: the page is translated, not only mirrored
    assert response["Content-Language"] == "fa"
    share.refresh_from_db()
    assert share.views == 1 and share.last_viewed_at is not None

    response = customer.post(share_path(share), {"body": "  Can we move the training to May?  "})
    assert response.status_code == 302
    comment = PlanComment.objects.get()
    assert (comment.body, comment.contact) == ("Can we move the training to May?", contact)
    event = TimelineEvent.objects.get(kind=EventKind.PLAN_COMMENT)
    assert (event.account_id, event.contact_id, event.actor_id) == (account.pk, contact.pk, None)
    assert Notification.objects.filter(user=csm, key=f"plan-comment:{comment.pk}").exists()
    assert "Can we move the training to May?" in customer.get(share_path(share)).content.decode()
    timeline = client.get(f"/timeline/accounts/{account.pk}/timeline/").content.decode()
    assert "Darya Karimi commented on the success plan" in timeline
    assert "Can we move the training to May?" in timeline


def test_an_empty_or_overlong_comment_is_refused_and_nothing_is_stored(account) -> None:
    share = _share(account)
    customer = Client()
    assert customer.post(share_path(share), {"body": "   "}).status_code == 400
    assert customer.post(share_path(share), {"body": "x" * 4001}).status_code == 400
    assert not PlanComment.objects.exists()
    assert not TimelineEvent.objects.filter(kind=EventKind.PLAN_COMMENT).exists()


def test_a_tampered_expired_or_revoked_link_is_refused(account) -> None:
    share = _share(account, language="vi")
    path = share_path(share)
    customer = Client()
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = path.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    response = customer.get(tampered)
    assert response.status_code == 404
    assert 'data-problem="invalid"' in response.content.decode()
    assert customer.get("/shared/plans/not-a-token/").status_code == 404
    # A token signed for this use but naming another share's key is refused too.
    from django.core import signing

    forged = signing.Signer(salt="tandem.success.plan-share").sign_object({"s": share.pk, "k": "guess"})
    assert customer.get(f"/shared/plans/{forged}/").status_code == 404

    PlanShare.objects.filter(pk=share.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = customer.get(path)
    assert response.status_code == 410
    html = response.content.decode()
    assert 'data-problem="expired"' in html and 'lang="vi"' in html
    assert customer.post(path, {"body": "still there?"}).status_code == 410
    assert not PlanComment.objects.exists()

    PlanShare.objects.filter(pk=share.pk).update(expires_at=timezone.now() + dt.timedelta(days=1))
    client, _user = _client(Role.CS_MANAGER, "morgan")
    assert client.post(f"/success/shares/{share.pk}/revoke/").status_code == 302
    response = customer.get(path)
    assert response.status_code == 410 and 'data-problem="revoked"' in response.content.decode()
    with pytest.raises(ShareRefused) as refused:
        share_resolve(share_path(share).rstrip("/").rsplit("/", 1)[1])
    assert refused.value.problem == ShareProblem.REVOKED


def test_sharing_refusals_name_the_field(account, settings) -> None:
    settings.TANDEM_SMTP_HOST = ""
    with as_fixture():
        other = ContactFactory(account=AccountFactory())
        left = ContactFactory(account=account, still_at_company=False, email="gone@example.com")
        no_mail = ContactFactory(account=account, email="")
    cases = [
        ({"contact": other}, "contact"),
        ({"contact": left}, "contact"),
        ({"contact": no_mail, "days": 0}, "days"),
        ({"contact": no_mail, "days": 181}, "days"),
        ({"contact": no_mail, "require_code": True}, "require_code"),
    ]
    for kwargs, field in cases:
        with pytest.raises(DomainError) as error:
            plan_share_create(acting_user=None, account=account, **kwargs)
        assert field in {e.field for e in error.value.errors}, kwargs
    with as_fixture():
        mailable = ContactFactory(account=account, email="ops@example.com")
    with pytest.raises(DomainError) as error:
        plan_share_create(acting_user=None, account=account, contact=mailable, require_code=True)
    assert "SMTP" in str(error.value.errors[0].message)
    assert not PlanShare.objects.exists()


def test_a_link_with_a_one_time_code_opens_only_with_the_mailed_code(account, smtp) -> None:  # noqa: F811
    with as_fixture():
        contact = ContactFactory(account=account, email="darya@example.com", language="ja")
        share = plan_share_create(acting_user=None, account=account, contact=contact, require_code=True)
    customer = Client()
    response = customer.get(share_path(share))
    assert response.status_code == 302 and response["Location"].endswith("/code/")
    code_page = response["Location"]
    assert "d•••@example.com" in customer.get(code_page).content.decode()
    assert customer.post(code_page, {"action": "send"}).status_code == 200
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "darya@example.com"
    code = re.search(r"\b(\d{6})\b", mail.get_payload(decode=True).decode()).group(1)
    # A second code within the minute is refused rather than flooding the inbox.
    assert customer.post(code_page, {"action": "send"}).status_code == 429
    wrong = "000000" if code != "000000" else "111111"
    assert customer.post(code_page, {"action": "check", "code": wrong}).status_code == 400
    assert customer.get(share_path(share)).status_code == 302
    response = customer.post(code_page, {"action": "check", "code": code})
    assert response.status_code == 302
    assert customer.get(share_path(share)).status_code == 200
    # The code is used up, and another browser with the same link still needs its own.
    assert Client().get(share_path(share)).status_code == 302


def test_five_wrong_codes_end_the_code(account, smtp) -> None:  # noqa: F811
    with as_fixture():
        contact = ContactFactory(account=account, email="darya@example.com")
        share = plan_share_create(acting_user=None, account=account, contact=contact, require_code=True)
    customer = Client()
    code_page = share_path(share) + "code/"
    customer.post(code_page, {"action": "send"})
    code = re.search(r"\b(\d{6})\b", smtp.messages[0].get_payload(decode=True).decode()).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(5):
        customer.post(code_page, {"action": "check", "code": wrong})
    assert customer.post(code_page, {"action": "check", "code": code}).status_code == 400


def test_the_plan_exports_as_html_and_as_a_pdf_printed_on_a_worker(account) -> None:
    client, _user = _client(Role.CSM, "anna")
    response = client.get(f"/success/accounts/{account.pk}/plan/export/?format=html&language=ja")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="success-plan-{account.pk}.html"'
    html = response.content.decode()
    assert '<html lang="ja" dir="ltr">' in html and "Cut reporting time" in html
    assert "<form" not in html  # the export has no comment form
    # An unknown language falls back to the reader's, not a 500.
    assert client.get(f"/success/accounts/{account.pk}/plan/export/?format=html&language=xx").status_code == 200

    response = client.get(f"/success/accounts/{account.pk}/plan/export/?format=pdf")
    assert response.status_code == 200
    row = Computation.objects.get(kind="success.plan_pdf")
    run_computation(computation=row.pk)
    row.refresh_from_db()
    assert row.status == JobStatus.DONE, row.error
    assert bytes(row.output).startswith(b"%PDF")


def test_the_api_shares_lists_and_revokes(account) -> None:
    client, _user = _client(Role.CS_MANAGER, "morgan")
    with as_fixture():
        contact = ContactFactory(account=account)
    base = f"/api/v1/accounts/{account.pk}/success-plan/shares"
    response = client.post(
        base, {"contact": contact.pk, "days": 7, "language": "zh-hans"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["active"] and body["language"] == "zh-hans" and "/shared/plans/" in body["url"]
    assert Client().get(body["url"]).status_code == 200
    assert [s["id"] for s in client.get(base).json()] == [body["id"]]
    response = client.post(f"{base}/{body['id']}/revoke")
    assert response.status_code == 200 and not response.json()["active"]
    assert Client().get(body["url"]).status_code == 410
    bad = client.post(base, {"contact": contact.pk, "days": 0}, content_type="application/json")
    assert bad.status_code in (400, 422) and "days" in bad.content.decode()
    unknown = client.post(base, {"contact": 999999}, content_type="application/json")
    assert unknown.status_code == 422 and "contact" in unknown.content.decode()


def test_a_viewer_sees_the_shares_but_cannot_share_or_revoke(account) -> None:
    share = _share(account)
    viewer, _user = _client(Role.READ_ONLY, "viewer")
    page = viewer.get(f"/success/accounts/{account.pk}/plan/").content.decode()
    assert "Darya Karimi" in page and "/revoke/" not in page and "/plan/shares/" not in page
    assert viewer.post(f"/success/shares/{share.pk}/revoke/").status_code == 403
    assert viewer.post(f"/success/accounts/{account.pk}/plan/shares/", {"contact": share.contact_id}).status_code == 403


def test_the_outcomes_page_reports_coverage_achievements_gaps_and_reported_roi(account) -> None:
    today = timezone.localdate()
    with as_fixture():
        csm = user_create(acting_user=None, username="casey", password=None, first_name="Casey", roles=[Role.CSM])
        account.csm_owner = csm
        account.save(update_fields=["csm_owner"])
        AccountFactory()  # no plan
        outcome_save(
            acting_user=None,
            account=account,
            title="Hours spent on reports each month",
            kpi_kind="reported",
            unit="h",
            baseline=40,
            reported=25,
            target=10,
        )
        done = outcome_save(acting_user=None, account=account, title="Go live", kpi_kind="reported", target=1)
        outcome_save(
            acting_user=None,
            account=account,
            outcome=done,
            title="Go live",
            kpi_kind="reported",
            target=1,
            status="achieved",
        )
        from tandem.success.services import milestone_create

        milestone_create(
            acting_user=None, account=account, title="Admins trained", due_date=today - dt.timedelta(days=3)
        )
        _share(account)
    client, _user = _client(Role.CS_MANAGER, "morgan")
    response = client.get("/success/outcomes/")
    assert response.status_code == 200
    view = response.context["data"]
    assert (view.accounts, view.plans, view.open, view.achieved, view.gaps, view.shared) == (2, 1, 2, 1, 1, 1)
    [roi] = view.roi
    assert (roi.change, roi.change_share) == (-15, -0.375)
    assert roi.progress == pytest.approx(0.5)  # 40 → 10 target, 25 reported: half way
    assert view.months[-1][1] == 1  # achieved this month
    [owner] = view.owners
    assert (owner.owner, owner.plans, owner.open, owner.achieved, owner.gaps) == ("Casey", 1, 2, 1, 1)
    html = response.content.decode()
    assert "Hours spent on reports each month" in html and "<svg" in html
