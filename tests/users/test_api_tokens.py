import re

import pytest
from django.test import Client
from django.urls import reverse

from tandem.users.models import ApiToken
from tandem.users.roles import Role
from tandem.users.services import api_token_create, user_create
from tests.factories import UserFactory, as_fixture

pytestmark = pytest.mark.django_db
URL = "/settings/api-tokens/"


@pytest.fixture
def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_url_name_and_login_required():
    assert reverse("users:api_tokens") == URL
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_lists_only_the_users_own_tokens(browser: Client, user):
    with as_fixture():
        api_token_create(acting_user=None, user=user, name="CRM sync")
        api_token_create(acting_user=None, user=UserFactory(), name="Someone else's")

    response = browser.get(URL)

    assert response.status_code == 200
    assert [t.name for t in response.context["tokens"]] == ["CRM sync"]
    html = response.content.decode()
    assert "CRM sync" in html
    assert "Someone else" not in html


def test_create_shows_the_secret_once_and_stores_only_its_digest(browser: Client, user):
    response = browser.post(URL, {"name": "Billing export"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = re.search(r'id="new-token-secret">(tdm_[\w-]+)<', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=user)
    assert token.name == "Billing export"
    assert token.digest == ApiToken.digest_for(secret)
    assert secret.startswith(token.prefix)
    assert secret not in browser.get(URL).content.decode()

    # The secret works: the user has no role, so the API answers 403 rather than 401.
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/accounts/").status_code == 403
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_blank_name_is_refused(browser: Client, user):
    response = browser.post(URL, {"name": "  "})

    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert ApiToken.objects.count() == 0


def test_revoke_own_token_then_the_api_refuses_it(browser: Client):
    with as_fixture():
        reader = user_create(acting_user=None, username="reader", password=None, roles=[Role.READ_ONLY])
        token, secret = api_token_create(acting_user=None, user=reader, name="Script")
    browser.force_login(reader)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/accounts/").status_code == 200

    response = browser.post(reverse("users:api_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    assert response["Location"] == URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/accounts/").status_code == 401
    page = browser.get(URL).content.decode()
    assert "Revoked" in page


def test_cannot_revoke_someone_elses_token_or_revoke_by_get(browser: Client):
    with as_fixture():
        theirs, _secret = api_token_create(acting_user=None, user=UserFactory(), name="Theirs")
    url = reverse("users:api_token_revoke", args=[theirs.pk])

    assert browser.post(url).status_code == 404
    assert browser.get(url).status_code == 405
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
