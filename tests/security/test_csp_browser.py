"""The Content-Security-Policy holds in a real browser: every page loads with no violation at all.

Headless Chromium (Debian's, as in tests/web/test_browser.py) opens each page, waits until htmx has
loaded its lazy sections (charts included), and collects both the console's CSP errors and the
``securitypolicyviolation`` events the document fires.
"""

from __future__ import annotations

import pytest

from tests.web.test_browser import PASSWORD, VIEWPORT, _async_unsafe_allowed, acme, browser  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.audit_via("fixture"),
]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def test_every_page_loads_with_no_csp_violation(live_server, browser, acme) -> None:  # noqa: F811
    import datetime as dt
    from decimal import Decimal

    from tests.factories import ExchangeRateFactory

    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2000, 1, 1), rate=Decimal("1.10"))  # Acme pays in EUR
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    account = acme["account"].pk
    pages = {
        "/": "[data-testid=kpi-accounts]",
        "/accounts/": "#account-results tbody tr",
        f"/accounts/{account}/": ".usage-slot .chart svg",  # the usage charts, swapped in by htmx
        "/accounts/?offset=-5&csm_owner=99999999999999999999": "#account-results",
        "/health/": "main",
        "/revenue/": "main",
        "/revenue/retention/": "main",
        "/opportunities/renewals/": "main",
        "/opportunities/pipeline/": "#board",
        "/opportunities/forecast/": "main",
        "/playbooks/my-day/": "main",
        "/notifications/": "main",
        "/settings/api-tokens/": "main",
        f"/reports/accounts/{account}/": ".chart svg",
        "/api/v1/docs": "#swagger-ui .opblock",  # Swagger UI rendered the operations
    }
    violations: dict[str, list[str]] = {}
    for path, ready in pages.items():
        console.clear()
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_selector(ready, state="attached")
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__csp") + [m for m in console if "Content Security Policy" in m]
        found += [m for m in console if m.startswith("pageerror:")]  # e.g. htmx refusing to run
        if found:
            violations[path] = found
    context.close()
    assert violations == {}


def test_the_login_and_lockout_pages_have_no_csp_violation(live_server, browser, acme, settings) -> None:  # noqa: F811
    settings.AXES_FAILURE_LIMIT = 1
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    for path in ("/login/", "/admin/login/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "wrong")
    page.click(".login-card button[type=submit]")
    page.wait_for_selector("[data-testid=locked-out]")
    assert page.evaluate("window.__csp") == []
    assert [m for m in console if "Content Security Policy" in m] == []
    context.close()
