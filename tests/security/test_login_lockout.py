"""Login throttling (django-axes): the app login and the admin login lock after too many failures."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tandem.users.services import user_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),
]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def dana(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return user_create(acting_user=None, username="dana", password=PASSWORD, roles=["csm"])


def _fail(client: Client, url: str, times: int, username: str = "dana") -> list[int]:
    return [client.post(url, {"username": username, "password": "wrong-password"}).status_code for _ in range(times)]


def test_the_right_password_is_refused_while_locked_out_with_a_styled_page(dana) -> None:
    client = Client()
    # The form again with its error, until the failure that reaches the limit locks the account.
    assert _fail(client, "/login/", 3) == [200, 200, 429]

    response = client.post("/login/", {"username": "dana", "password": PASSWORD})

    assert response.status_code == 429
    names = [t.name for t in response.templates]
    assert "web/locked_out.html" in names and "web/base.html" in names  # a page in the app's layout
    html = response.content.decode()
    assert 'class="topbar"' in html and 'data-testid="locked-out"' in html
    assert "Too many failed logins" in html and "Try again in 15 minutes" in html
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_username_whatever_the_address(dana) -> None:
    _fail(Client(REMOTE_ADDR="10.0.0.1"), "/login/", 3)
    response = Client(REMOTE_ADDR="10.0.0.2").post("/login/", {"username": "dana", "password": PASSWORD})
    assert response.status_code == 429


def test_failures_below_the_limit_do_not_lock_and_a_success_resets_them(dana) -> None:
    client = Client()
    assert _fail(client, "/login/", 2) == [200, 200]
    assert client.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302
    client.post("/logout/")
    assert _fail(client, "/login/", 2) == [200, 200]  # counted from zero again
    assert client.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302


def test_the_lockout_page_is_translated(dana) -> None:
    client = Client(headers={"accept-language": "vi"})
    _fail(client, "/login/", 3)
    html = client.post("/login/", {"username": "dana", "password": PASSWORD}).content.decode()
    assert 'lang="vi"' in html
    assert "Too many failed logins" not in html
    assert "15 phút" in html  # the cool-off in Vietnamese words (Babel)


def test_the_admin_login_locks_too(dana) -> None:
    staff = user_create(acting_user=None, username="root", password=PASSWORD, roles=["admin"])
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    _fail(client, "/admin/login/", 3, username="root")
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.content.decode()


def test_an_admin_unlocks_with_axes_reset_username(dana) -> None:
    client = Client()
    _fail(client, "/login/", 3)
    assert client.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 429

    call_command("axes_reset_username", "dana")

    assert client.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302


def test_limits_come_from_tandem_settings(monkeypatch) -> None:
    import importlib

    import tandem.settings

    monkeypatch.setenv("TANDEM_LOGIN_FAILURE_LIMIT", "7")
    monkeypatch.setenv("TANDEM_LOGIN_COOLOFF_MINUTES", "0")
    monkeypatch.setenv("TANDEM_LOGIN_LOCKOUT_BY", "username,ip_address")
    try:
        fresh = importlib.reload(tandem.settings)
        assert (fresh.AXES_FAILURE_LIMIT, fresh.AXES_COOLOFF_TIME) == (7, None)  # 0: locked until reset
        assert fresh.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    finally:
        monkeypatch.undo()
        importlib.reload(tandem.settings)


def test_an_address_spraying_many_usernames_is_locked_out(dana) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [client.post("/login/", {"username": f"guess{n}", "password": "x"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    assert client.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 429
    assert (
        Client(REMOTE_ADDR="203.0.113.8").post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302
    )


def test_behind_proxies_the_client_address_is_the_one_the_first_proxy_saw(dana, settings) -> None:
    from django.test import RequestFactory

    from tandem.users.security import client_ip

    settings.TANDEM_PROXY_COUNT = 2
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.2", REMOTE_ADDR="10.0.0.3"
    )  # forged by the client, then appended by proxy 1 and proxy 2
    assert client_ip(request) == "203.0.113.9"
    settings.TANDEM_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.3"
