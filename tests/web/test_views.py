import datetime as dt
import unicodedata
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.accounts.models import LifecycleStage
from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.users.services import user_create
from tests.factories import AccountFactory, TicketFactory, UserFactory, as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def test_home_requires_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_page_and_logging_in(client):
    with as_fixture():
        user_create(acting_user=None, username="dana", password="correct-horse-battery", roles=["csm"])

    page = client.get("/login/")
    response = client.post("/login/", {"username": "dana", "password": "correct-horse-battery"})

    assert page.status_code == 200
    assert b'<html lang="en" dir="ltr">' in page.content
    assert b"Log in to Tandem" in page.content
    assert b'class="primary-nav"' not in page.content  # no navigation before logging in
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_password_shows_an_error(client):
    response = client.post("/login/", {"username": "nobody", "password": "wrong-password"})

    assert response.status_code == 200
    assert b'class="form-errors"' in response.content


def test_logout_is_a_post(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_navigation_shows_admin_only_to_staff(client):
    with as_fixture():
        csm = user_create(
            acting_user=None, username="c", password=None, first_name="Casey", last_name="Ng", roles=["csm"]
        )
        admin = user_create(acting_user=None, username="a", password=None, roles=["admin"])

    client.force_login(csm)
    csm_page = client.get("/").content.decode()
    client.force_login(admin)
    admin_page = client.get("/").content.decode()

    for html in (csm_page, admin_page):
        assert '<a href="/accounts/"' in html and '<a href="/api/v1/docs">API docs</a>' in html
        assert 'action="/i18n/setlang/" method="post"' in html
        assert 'action="/logout/" method="post"' in html
    assert 'class="user-name" href="/settings/api-tokens/"' in csm_page
    assert ">Casey Ng</a>" in csm_page
    assert 'href="/admin/"' not in csm_page
    assert 'href="/admin/"' in admin_page


def test_language_switcher_lists_languages_in_their_own_names(client, user):
    client.force_login(user)

    html = unicodedata.normalize("NFC", client.get("/").content.decode())

    for code, name in [
        ("en", "English"),
        ("vi", "Tiếng Việt"),
        ("ja", "日本語"),
        ("fa", "فارسی"),
        ("zh-hans", "简体中文"),
    ]:
        assert f'value="{code}" lang="{code}"' in html
        assert unicodedata.normalize("NFC", name) in html


def test_switching_to_persian_makes_pages_right_to_left(client, user):
    client.force_login(user)

    response = client.post("/i18n/setlang/", {"language": "fa", "next": "/accounts/"})
    page = client.get("/")

    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert b'<html lang="fa" dir="rtl">' in page.content


def test_home_shows_a_csm_their_portfolio(client, django_assert_num_queries):
    with as_fixture():
        me = user_create(acting_user=None, username="me", password=None, first_name="Casey", roles=["csm"])
    today = timezone.localdate()
    soon = AccountFactory(
        name="Renews Soon",
        csm_owner=me,
        arr=Decimal("120000"),
        renewal_date=today + dt.timedelta(days=12),
        lifecycle_stage=LifecycleStage.ADOPTION,
    )
    AccountFactory(name="Fresh Start", am_owner=me, arr=Decimal("3000"), lifecycle_stage=LifecycleStage.ONBOARDING)
    other = AccountFactory(name="Someone Else", arr=Decimal("999999"), renewal_date=today + dt.timedelta(days=3))
    # Renewals are the open renewal opportunities (what the renewal center lists), not renewal dates.
    for account, days in ((soon, 12), (other, 3)):
        with as_fixture():
            Opportunity.objects.create(
                account=account,
                kind=OpportunityKind.RENEWAL,
                name="Renewal",
                stage=Stage.PROPOSE,
                probability=Decimal("70"),
                amount=account.arr,
                current_arr=account.arr,
                close_date=today + dt.timedelta(days=days),
            )
    TicketFactory(account=soon, subject="Cannot export", status="open")
    client.force_login(me)

    # session, user, permissions (2), roles, access rule (roles, rule), totals, renewals, renewal
    # totals, onboarding, tickets
    with django_assert_num_queries(12):
        response = client.get("/")

    html = response.content.decode()
    assert "Welcome back, Casey" in html
    assert '<span class="kpi-value" data-testid="kpi-accounts">2</span>' in html
    # A CSM's rule hides contract values by default: the ARR figure is masked, not left out.
    assert 'data-testid="kpi-arr"><span class="masked"' in html and "$123K" not in html
    assert '<span class="kpi-value" data-testid="kpi-renewals">1</span>' in html
    assert '<span class="kpi-value" data-testid="kpi-onboarding">1</span>' in html
    assert "Renews Soon" in html and "in 12 days" in html and "Fresh Start" in html
    assert "Cannot export" in html
    assert "Someone Else" not in html
    assert 'href="/opportunities/renewals/?horizon=90&amp;mine=1"' in html


def test_home_for_a_user_without_a_role_explains_why_it_is_empty(client, user):
    client.force_login(user)

    html = client.get("/").content.decode()

    assert "You have no role yet" in html
    assert 'data-testid="kpi-accounts"' not in html
