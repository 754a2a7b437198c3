"""The Content-Security-Policy header, and templates that need nothing inline to work under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tandem

TEMPLATES = sorted(Path(tandem.__file__).parent.glob("*/templates/**/*.html"))
# The printable report and the success plan document (the customer's shared page, its HTML export
# and its PDF) are standalone documents (WeasyPrint prints the same HTML); their views relax
# style-src for themselves, and they have no script either.
STANDALONE = {
    "reports/report.html",
    "success/_document_style.html",
    "success/plan_document.html",
    "success/shared_code.html",
    "success/shared_refused.html",
}

pytestmark = pytest.mark.audit_via("fixture")


def _name(path: Path) -> str:
    return path.as_posix().split("/templates/", 1)[1]


@pytest.mark.parametrize("path", TEMPLATES, ids=_name)
def test_templates_have_no_inline_script_handler_or_style(path: Path) -> None:
    html = path.read_text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert [tag for tag in scripts if "src=" not in tag and "application/json" not in tag] == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    if _name(path) not in STANDALONE:
        assert re.findall(r"\sstyle\s*=", html) == [] and "<style" not in html


@pytest.mark.django_db
def test_pages_carry_a_strict_policy(admin_client) -> None:
    policy = admin_client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.django_db
def test_the_api_docs_are_served_from_our_own_static_files(admin_client) -> None:
    response = admin_client.get("/api/v1/docs")
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert re.findall(r'<script src="([^"]+)"', html) == [
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
    ]
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_the_htmx_config_keeps_htmx_from_injecting_styles_or_evaluating_code(admin_client) -> None:
    html = admin_client.get("/").content.decode()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html)
    assert meta is not None
    import json

    assert json.loads(meta.group(1)) == {"includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}
