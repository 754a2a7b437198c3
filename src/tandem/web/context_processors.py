"""Template context every page of the shell needs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import get_language_bidi

# Set-up pages of the playbooks app: the navigation marks "Settings" for them, not "My day".
SETTINGS_PAGES = {
    "library", "playbooks", "playbook_new", "playbook_edit", "templates", "template_new", "template_edit",
    "pools", "pool_new", "pool_edit", "rules", "rule_new", "rule_edit",
}  # fmt: skip
# Apps whose pages are reached from Settings (not from their own link in the top navigation).
SETTINGS_NAMESPACES = {"ingest", "access", "audit", "traits", "segments", "webhooks"}
SUCCESS_SETTINGS_PAGES = {"templates"}


def shell(request: HttpRequest) -> dict:
    match = getattr(request, "resolver_match", None)
    in_settings = bool(
        match
        and (
            (match.namespace == "playbooks" and match.url_name in SETTINGS_PAGES)
            or match.namespace in SETTINGS_NAMESPACES
            or (match.namespace == "success" and match.url_name in SUCCESS_SETTINGS_PAGES)
        )
    )
    return {"text_direction": "rtl" if get_language_bidi() else "ltr", "section": "settings" if in_settings else ""}
