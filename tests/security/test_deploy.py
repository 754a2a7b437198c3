"""TANDEM_HTTPS=1 is the production set: `tandem manage check --deploy` has nothing to say about it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.audit_via("fixture")]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TANDEM_SECRET_KEY": secrets.token_urlsafe(50), **env}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "tandem", *args], env=environ, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {"TANDEM_HTTPS": "1", "TANDEM_ALLOWED_HOSTS": "tandem.example.com", "TANDEM_DEBUG": "0"}


def test_check_deploy_is_clean_in_the_production_configuration() -> None:
    result = _run(["manage", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_without_tandem_https_check_deploy_names_what_is_missing() -> None:
    result = _run(["manage", "check", "--deploy"], TANDEM_ALLOWED_HOSTS="tandem.example.com")
    output = result.stdout + result.stderr
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in output


def test_the_production_set_of_settings() -> None:
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SAMESITE",
    ]
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    environ = {**os.environ, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "tandem.settings", "TANDEM_HSTS_SECONDS": "600"}
    result = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
    }


@pytest.mark.django_db
def test_https_responses_carry_hsts_and_secure_cookies(client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True

    plain = client.get("/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"

    secure = client.get("/login/", headers={"x-forwarded-proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csrf = secure.cookies["csrftoken"]
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"
