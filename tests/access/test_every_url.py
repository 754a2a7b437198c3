"""Every URL and every API operation, for every role, on an object inside and outside the reader's book.

The table below decides each one's access. A URL pattern or API operation missing from it fails
``test_every_url_and_operation_has_a_decided_access``, so nobody can add one without deciding who
may use it. Each request runs in a savepoint that is rolled back, so one role's write does not
change what the next role finds.

In this test CSMs and account managers see and change only their own book (the restrictive rule
an admin may choose), so "outside" objects are invisible to them; admins and CS managers see all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tandem.access.masking import CONTRACT_VALUE_KEYS
from tandem.users.roles import Role
from tests.access.world import BOOK_ROLES, ROLES, TODAY, Objects, World
from tests.factories import ProductFactory

MANAGERS = (Role.ADMIN, Role.CS_MANAGER)


class Cap(Enum):
    """What a URL needs, in the terms of docs/security.md's capability table."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed in"  # any signed-in user; no customer object involved
    LIST = "list"  # a list of customer data: everyone with a role, filtered to what they see
    VIEW = "view"  # one customer object
    CHANGE = "change"  # change one customer object (or create one on an account)
    COMMERCIAL = "commercial"  # change an opportunity, renewal or contract
    DELETE = "delete"  # delete a customer object
    COMPANY = "company"  # company-wide revenue and forecasts
    CONFIG_VIEW = "configuration, read"
    CONFIG_CHANGE = "configuration, change"
    ADMIN = "admin"
    PERSONAL = "personal"  # the user's own token
    WRITE = "write"  # a form to create customer data: whoever writes at all (not read-only)
    COMMERCIAL_FORM = "commercial form"  # a form to create a commercial record: who changes commercial records


OK, FORBIDDEN, HIDDEN, REFUSED = "ok", "403", "404", "403 or 404"


def expected(cap: Cap, role: Role, inside: bool) -> str:
    book = role in BOOK_ROLES
    if cap in (Cap.PUBLIC, Cap.SIGNED_IN, Cap.LIST, Cap.CONFIG_VIEW):
        return OK
    if cap == Cap.PERSONAL:
        return OK if inside else HIDDEN
    if cap == Cap.ADMIN:
        return OK if role == Role.ADMIN else FORBIDDEN
    if cap == Cap.WRITE:
        return FORBIDDEN if role == Role.READ_ONLY else OK
    if cap == Cap.COMMERCIAL_FORM:
        return FORBIDDEN if role in (Role.READ_ONLY, Role.CSM) else OK
    if cap in (Cap.COMPANY, Cap.CONFIG_CHANGE):
        return OK if role in MANAGERS else FORBIDDEN
    if cap == Cap.DELETE:  # only managers delete: refused before any object is looked up
        return OK if role in MANAGERS else FORBIDDEN
    if book and not inside:
        return HIDDEN
    if cap == Cap.VIEW:
        return OK
    if role == Role.READ_ONLY:
        return FORBIDDEN
    if cap == Cap.CHANGE:
        return OK
    if cap == Cap.COMMERCIAL:
        return FORBIDDEN if role == Role.CSM else OK
    raise AssertionError(cap)


def expected_create(cap: Cap, role: Role, inside: bool) -> str:
    """Creating on an account: outside the book the account is not found or the creation refused."""
    if role in BOOK_ROLES and not inside:
        return REFUSED
    return expected(cap, role, True)


# --- what each page needs ---------------------------------------------------------------------

Build = Callable[[World, Role, bool], tuple[str, dict[str, Any]]]  # (path, POST data)


@dataclass(frozen=True)
class Page:
    method: str
    cap: Cap
    build: Build
    create: bool = False  # inside/outside is the account the new object goes on


def _objs(w: World, inside: bool) -> Objects:
    return w.inside if inside else w.outside


def _on(attr: str, template: str, data: dict[str, Any] | None = None) -> Build:
    def build(w: World, role: Role, inside: bool) -> tuple[str, dict[str, Any]]:
        obj = getattr(_objs(w, inside), attr)
        return template.format(pk=obj.pk), dict(data or {})

    return build


_SEGMENT_FORM = {
    "name": "Big ones",
    "cond-count": "1",
    "cond-0-subject": "field:tier",
    "cond-0-op": "in",
    "cond-0-value": "enterprise",
}
_OUTCOME_FORM = {"title": "Hours saved", "kpi_kind": "reported", "target": "50", "status": "open"}


def _fixed(path: str, data: dict[str, Any] | None = None) -> Build:
    return lambda w, role, inside: (path, dict(data or {}))


def _with(build: Callable[[World, Role, bool], tuple[str, dict[str, Any]]]) -> Build:
    return build


def _template(w: World) -> Any:
    from tandem.audit.context import audit_context
    from tandem.playbooks.models import EmailTemplate

    with audit_context(via="fixture"):
        template, _created = EmailTemplate.objects.get_or_create(
            key="access-check", defaults={"name": "Check", "subject": "Hi", "body": "Hello {{ contact.first_name }}"}
        )
    return template


def _metric() -> Any:
    from tandem.audit.context import audit_context
    from tandem.metrics.models import MetricDefinition

    with audit_context(via="fixture"):
        metric, _created = MetricDefinition.objects.get_or_create(
            key="events_30d", defaults={"name": "Events", "kind": "event_count", "window_days": 30}
        )
    return metric


def _product() -> Any:
    from tandem.audit.context import audit_context
    from tandem.subscriptions.models import Product

    with audit_context(via="fixture"):
        product, _created = Product.objects.get_or_create(code="access-check", defaults={"name": "Check"})
    return product


def _measure(w: World) -> Any:
    from tandem.audit.context import audit_context
    from tandem.health.models import ScorecardMeasure

    with audit_context(via="fixture"):
        measure, _created = ScorecardMeasure.objects.get_or_create(scorecard=w.scorecard, metric=_metric())
    return measure


def _history_path(obj: Any) -> str:
    return f"/audit/history/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/"


def _account_form(w: World, role: Role, inside: bool) -> dict[str, Any]:
    return {
        "name": "Brand new",
        "tier": "smb",
        "lifecycle_stage": "onboarding",
        "currency": "USD",
        "csm_owner": (w.users[Role.CSM] if inside else w.other).pk,
        "am_owner": w.users[Role.ACCOUNT_MANAGER].pk if inside else "",
    }


_LATER = (TODAY + dt.timedelta(days=7)).isoformat()
_CONTRACT = {
    "start_date": TODAY.isoformat(),
    "billing_period": "12",
    "status": "active",
    "currency": "USD",
    "items-TOTAL_FORMS": "1",
    "items-INITIAL_FORMS": "0",
}

_MEETING_FORM = {
    "kind": "qbr",
    "title": "QBR",
    "starts_at": f"{_LATER}T10:00",
    "ends_at": f"{_LATER}T11:00",
}

# The write actions of the account page (accounts, contacts, timeline, manual CTAs, contracts).
WRITE_PAGES: dict[str, list[Page]] = {
    "accounts:new": [
        Page("GET", Cap.WRITE, _fixed("/accounts/new/")),
        Page("POST", Cap.CHANGE, _with(lambda w, r, i: ("/accounts/new/", _account_form(w, r, i))), create=True),
    ],
    "accounts:search": [Page("GET", Cap.LIST, _fixed("/accounts/search/", {"q": "Ins"}))],
    "accounts:edit": [
        Page("GET", Cap.CHANGE, _on("account", "/accounts/{pk}/edit/")),
        Page(
            "POST",
            Cap.CHANGE,
            _with(
                lambda w, r, i: (
                    f"/accounts/{_objs(w, i).account.pk}/edit/",
                    {**_account_form(w, r, i), "name": "Renamed"},
                )
            ),
        ),
    ],
    "accounts:archive": [Page("POST", Cap.CHANGE, _on("account", "/accounts/{pk}/archive/"))],
    "accounts:contact_new": [
        Page("GET", Cap.CHANGE, _on("account", "/accounts/{pk}/contacts/new/")),
        Page("POST", Cap.CHANGE, _on("account", "/accounts/{pk}/contacts/new/", {"first_name": "Kim"})),
    ],
    "accounts:contact": [Page("GET", Cap.VIEW, _on("contact", "/accounts/contacts/{pk}/"))],
    "accounts:contacts": [Page("GET", Cap.LIST, _fixed("/accounts/contacts/", {"q": "a"}))],
    "accounts:contacts_export": [Page("GET", Cap.LIST, _fixed("/accounts/contacts/export.csv"))],
    "accounts:contact_new_any": [
        Page("GET", Cap.WRITE, _fixed("/accounts/contacts/new/")),
        Page(
            "POST",
            Cap.CHANGE,
            _with(
                lambda w, r, i: (
                    "/accounts/contacts/new/",
                    {"account": f"{_objs(w, i).account.name} (#{_objs(w, i).account.pk})", "first_name": "Kim"},
                )
            ),
            create=True,
        ),
    ],
    "accounts:contact_edit": [
        Page("GET", Cap.CHANGE, _on("contact", "/accounts/contacts/{pk}/edit/")),
        Page("POST", Cap.CHANGE, _on("contact", "/accounts/contacts/{pk}/edit/", {"first_name": "Kim"})),
    ],
    "accounts:contact_left": [Page("POST", Cap.CHANGE, _on("contact", "/accounts/contacts/{pk}/left/"))],
    "support:ticket": [Page("GET", Cap.VIEW, _on("ticket", "/support/tickets/{pk}/"))],
    "timeline:log": [
        Page("GET", Cap.CHANGE, _on("account", "/timeline/accounts/{pk}/log/")),
        Page(
            "POST",
            Cap.CHANGE,
            _on(
                "account",
                "/timeline/accounts/{pk}/log/",
                {"kind": "call", "occurred_at": f"{TODAY.isoformat()}T10:00", "subject": "Check-in"},
            ),
        ),
    ],
    "timeline:account": [Page("GET", Cap.VIEW, _on("account", "/timeline/accounts/{pk}/timeline/", {"type": "note"}))],
    "timeline:contact": [Page("GET", Cap.VIEW, _on("contact", "/timeline/contacts/{pk}/timeline/"))],
    "timeline:note_new": [
        Page("POST", Cap.CHANGE, _on("account", "/timeline/accounts/{pk}/notes/", {"text": "Met the new **VP**"}))
    ],
    "timeline:edit": [
        Page("GET", Cap.CHANGE, _on("interaction", "/timeline/entries/{pk}/edit/")),
        Page(
            "POST",
            Cap.CHANGE,
            _on(
                "interaction",
                "/timeline/entries/{pk}/edit/",
                {"kind": "call", "occurred_at": f"{TODAY.isoformat()}T10:00", "subject": "Check-in, edited"},
            ),
        ),
    ],
    "timeline:pin": [Page("POST", Cap.CHANGE, _on("interaction", "/timeline/entries/{pk}/pin/", {"pinned": "1"}))],
    "timeline:delete": [Page("POST", Cap.DELETE, _on("interaction", "/timeline/entries/{pk}/delete/"))],
    "timeline:attachment": [
        Page("GET", Cap.VIEW, _with(lambda w, r, i: (f"/timeline/attachments/{_interaction_attachment(w, i).pk}/", {})))
    ],
    "timeline:cta_notes": [
        Page("GET", Cap.VIEW, _on("cta", "/timeline/ctas/{pk}/notes/")),
        Page("POST", Cap.CHANGE, _on("cta", "/timeline/ctas/{pk}/notes/", {"text": "Called, no answer"})),
    ],
    "playbooks:cta_new": [
        Page("GET", Cap.CHANGE, _on("account", "/playbooks/accounts/{pk}/ctas/new/")),
        Page(
            "POST",
            Cap.CHANGE,
            _with(
                lambda w, r, i: (
                    f"/playbooks/accounts/{_objs(w, i).account.pk}/ctas/new/",
                    {
                        "title": "Plan the QBR",
                        "type": "lifecycle",
                        "priority": "2",
                        "owner": w.users[r].pk,
                        "due_date": _LATER,
                    },
                )
            ),
        ),
    ],
    "subscriptions:edit": [
        Page("GET", Cap.COMMERCIAL, _on("subscription", "/subscriptions/{pk}/edit/")),
        Page("POST", Cap.COMMERCIAL, _on("subscription", "/subscriptions/{pk}/edit/", _CONTRACT)),
    ],
    "subscriptions:products": [
        Page("GET", Cap.CONFIG_VIEW, _fixed("/subscriptions/products/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/subscriptions/products/", {"code": ""})),
    ],
    "subscriptions:product_edit": [
        Page("GET", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/subscriptions/products/{_product().pk}/", {}))),
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _with(lambda w, r, i: (f"/subscriptions/products/{_product().pk}/", {"name": ""})),
        ),
    ],
    "subscriptions:new": [
        Page("GET", Cap.COMMERCIAL, _on("account", "/subscriptions/accounts/{pk}/new/")),
        Page("POST", Cap.COMMERCIAL, _on("account", "/subscriptions/accounts/{pk}/new/", _CONTRACT)),
    ],
}


def _computation(w: World, role: Role, inside: bool) -> str:
    """A finished PDF report the reader started (inside) or another user started (outside)."""
    from tandem.jobs.models import Computation, JobStatus

    owner = w.users[role] if inside else w.users[Role.ADMIN if role != Role.ADMIN else Role.CSM]
    row = Computation.objects.create(
        kind="reports.render",
        requested_by=owner,
        status=JobStatus.DONE,
        output=b"%PDF-1.7",
        content_type="application/pdf",
        filename="account.pdf",
        finished_at=timezone.now(),
    )
    return f"/jobs/computations/{row.pk}/"


PAGES: dict[str, list[Page]] = {
    "login": [Page("GET", Cap.PUBLIC, _fixed("/login/"))],
    "logout": [Page("POST", Cap.SIGNED_IN, _fixed("/logout/"))],
    "set_language": [Page("POST", Cap.PUBLIC, _fixed("/i18n/setlang/", {"language": "en", "next": "/"}))],
    "web:home": [Page("GET", Cap.SIGNED_IN, _fixed("/"))],
    "accounts:list": [Page("GET", Cap.LIST, _fixed("/accounts/", {"q": "Inside"}))],
    "accounts:export": [Page("GET", Cap.LIST, _fixed("/accounts/export.csv"))],
    "accounts:detail": [Page("GET", Cap.VIEW, _on("account", "/accounts/{pk}/"))],
    "accounts:usage_chart": [Page("GET", Cap.VIEW, _on("account", "/accounts/{pk}/usage-chart/"))],
    "health:portfolio": [Page("GET", Cap.LIST, _fixed("/health/"))],
    "health:account": [Page("GET", Cap.VIEW, _on("account", "/health/account/{pk}/"))],
    "health:metrics": [Page("GET", Cap.CONFIG_VIEW, _fixed("/health/metrics/"))],
    "health:metrics_suggest": [Page("POST", Cap.CONFIG_CHANGE, _fixed("/health/metrics/suggest/"))],
    "health:metric_new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/health/metrics/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/health/metrics/new/", {"key": ""})),
    ],
    "health:metric_edit": [
        Page(
            "GET",
            Cap.CONFIG_CHANGE,
            _with(lambda w, r, i: (f"/health/metrics/{_metric().pk}/", {})),
        ),
    ],
    "health:scorecard": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/", {}))),
    ],
    "health:scorecard_new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/health/scorecards/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/health/scorecards/new/", {"name": ""})),
    ],
    "health:measure_add": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/measures/", {})))
    ],
    "health:measure_remove": [
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/measures/{_measure(w).pk}/remove/", {})),
        )
    ],
    "health:scorecard_preview": [
        Page("POST", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/preview/", {})))
    ],
    "health:backtest": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/backtest/", {})))
    ],
    "opportunities:renewals": [Page("GET", Cap.LIST, _fixed("/opportunities/renewals/"))],
    "opportunities:renewals_export": [Page("GET", Cap.LIST, _fixed("/opportunities/renewals/export.csv"))],
    "opportunities:renewals_open": [Page("POST", Cap.CONFIG_CHANGE, _fixed("/opportunities/renewals/open-due/"))],
    "opportunities:pipeline": [Page("GET", Cap.LIST, _fixed("/opportunities/pipeline/"))],
    "opportunities:pipeline_export": [Page("GET", Cap.LIST, _fixed("/opportunities/pipeline/export.csv"))],
    "opportunities:create": [
        Page("GET", Cap.COMMERCIAL_FORM, _fixed("/opportunities/new/")),
        Page(
            "POST",
            Cap.COMMERCIAL,
            _with(
                lambda w, r, i: (
                    "/opportunities/new/",
                    {
                        "account": f"{_objs(w, i).account.name} (#{_objs(w, i).account.pk})",
                        "kind": "upsell",
                        "amount": "1000",
                        "close_date": (TODAY + dt.timedelta(days=30)).isoformat(),
                        "name": "More seats",
                    },
                )
            ),
            create=True,
        ),
    ],
    "opportunities:forecast": [Page("GET", Cap.COMPANY, _fixed("/opportunities/forecast/"))],
    **WRITE_PAGES,
    "opportunities:quota_save": [
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _with(
                lambda w, r, i: (
                    "/opportunities/forecast/quota/",
                    {"owner": w.users[Role.ACCOUNT_MANAGER].pk, "period_start": "2026-10-01", "amount": "50000"},
                )
            ),
        )
    ],
    "opportunities:account_section": [Page("GET", Cap.VIEW, _on("account", "/opportunities/account/{pk}/"))],
    "opportunities:detail": [Page("GET", Cap.VIEW, _on("expansion", "/opportunities/{pk}/"))],
    "opportunities:renewal_action": [
        Page(
            "POST",
            Cap.COMMERCIAL,
            _on("renewal", "/opportunities/{pk}/renewal/", {"action": "forecast", "forecast_category": "commit"}),
        )
    ],
    "opportunities:move_stage": [
        Page("POST", Cap.COMMERCIAL, _on("expansion", "/opportunities/{pk}/stage/", {"stage": "propose"}))
    ],
    "revenue:summary": [Page("GET", Cap.COMPANY, _fixed("/revenue/"))],
    "revenue:summary_recompute": [
        Page("POST", Cap.COMPANY, _fixed("/revenue/recompute/", {"from": "2026-01-01", "to": "2026-06-30"}))
    ],
    "revenue:retention": [Page("GET", Cap.COMPANY, _fixed("/revenue/retention/"))],
    "reports:account": [
        Page("GET", Cap.VIEW, _on("account", "/reports/accounts/{pk}/")),
        Page("GET", Cap.VIEW, _on("account", "/reports/accounts/{pk}/?format=pdf")),
    ],
    # A long computation's progress and file: only the user who started it sees it.
    "jobs:computation": [Page("GET", Cap.PERSONAL, _with(lambda w, r, i: (_computation(w, r, i), {})))],
    "jobs:computation_file": [Page("GET", Cap.PERSONAL, _with(lambda w, r, i: (_computation(w, r, i) + "file/", {})))],
    "users:api_tokens": [
        Page("GET", Cap.SIGNED_IN, _fixed("/settings/api-tokens/")),
        Page("POST", Cap.SIGNED_IN, _fixed("/settings/api-tokens/", {"name": "script"})),
    ],
    "users:api_token_revoke": [
        Page(
            "POST",
            Cap.PERSONAL,
            _with(
                lambda w, r, i: (
                    f"/settings/api-tokens/{(w.token_of[w.users[r].pk] if i else w.other_token).pk}/revoke/",
                    {},
                )
            ),
        )
    ],
    "playbooks:my_day": [Page("GET", Cap.SIGNED_IN, _fixed("/playbooks/my-day/"))],
    "playbooks:team": [Page("GET", Cap.CONFIG_CHANGE, _fixed("/playbooks/team/"))],
    "playbooks:pool": [Page("GET", Cap.LIST, _with(lambda w, r, i: (f"/playbooks/pools/{w.pool.pk}/", {})))],
    "playbooks:cta": [Page("GET", Cap.VIEW, _on("cta", "/playbooks/ctas/{pk}/"))],
    "playbooks:cta_close": [
        Page("POST", Cap.CHANGE, _on("cta", "/playbooks/ctas/{pk}/close/", {"outcome": "success", "reason": "Saved"}))
    ],
    "playbooks:cta_opportunity": [
        Page(
            "POST",
            Cap.CHANGE,
            _on(
                "cta",
                "/playbooks/ctas/{pk}/opportunity/",
                {"amount": "1000", "close_date": (TODAY + dt.timedelta(days=60)).isoformat()},
            ),
        )
    ],
    "playbooks:cta_snooze": [
        Page(
            "POST",
            Cap.CHANGE,
            _on("cta", "/playbooks/ctas/{pk}/snooze/", {"until": (TODAY + dt.timedelta(days=3)).isoformat()}),
        )
    ],
    "playbooks:cta_reassign": [
        Page(
            "POST",
            Cap.CHANGE,
            _with(lambda w, r, i: (f"/playbooks/ctas/{_objs(w, i).cta.pk}/reassign/", {"owner": w.users[Role.CSM].pk})),
        )
    ],
    "playbooks:task_complete": [Page("POST", Cap.CHANGE, _on("task", "/playbooks/tasks/{pk}/complete/"))],
    "playbooks:task_send": [
        Page("GET", Cap.CHANGE, _on("task", "/playbooks/tasks/{pk}/send/")),
        Page("POST", Cap.CHANGE, _on("task", "/playbooks/tasks/{pk}/send/")),
    ],
    "playbooks:rules": [Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/rules/"))],
    "playbooks:rule_new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/playbooks/rules/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/playbooks/rules/new/", {"name": ""})),
    ],
    "playbooks:rule_edit": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/playbooks/rules/{w.rule.pk}/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/playbooks/rules/{w.rule.pk}/", {"name": ""}))),
    ],
    "playbooks:rule_preview": [
        Page("POST", Cap.CONFIG_VIEW, _fixed("/playbooks/rules/preview/", {"trigger": "health_band"}))
    ],
    "playbooks:account_ctas": [Page("GET", Cap.VIEW, _on("account", "/playbooks/accounts/{pk}/ctas/"))],
    "playbooks:rule_builder": [
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _fixed("/playbooks/rules/builder/", {"trigger": "health_band", "action": "add_condition"}),
        )
    ],
    # Set-up: everyone reads the configuration, managers change it (docs/security.md).
    "web:settings": [Page("GET", Cap.SIGNED_IN, _fixed("/settings/"))],
    "opportunities:settings": [
        Page("GET", Cap.CONFIG_VIEW, _fixed("/opportunities/settings/")),
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _fixed("/opportunities/settings/", {"lead_enterprise": "150", "lead_mid_market": "90", "lead_smb": "60"}),
        ),
    ],
    "playbooks:library": [
        Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/library/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/playbooks/library/", {"language": "en"})),
    ],
    "playbooks:playbooks": [Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/playbooks/"))],
    "playbooks:playbook_new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/playbooks/playbooks/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/playbooks/playbooks/new/", {"name": "", "action": "save"})),
    ],
    "playbooks:playbook_edit": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/playbooks/playbooks/{w.rule.playbook_id}/", {}))),
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _with(lambda w, r, i: (f"/playbooks/playbooks/{w.rule.playbook_id}/", {"action": "add_step"})),
        ),
    ],
    "playbooks:templates": [Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/templates/"))],
    "playbooks:template_new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/playbooks/templates/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/playbooks/templates/new/", {"name": ""})),
    ],
    "playbooks:template_edit": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/playbooks/templates/{_template(w).pk}/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/playbooks/templates/{_template(w).pk}/", {}))),
    ],
    "playbooks:template_preview": [
        Page("POST", Cap.CONFIG_VIEW, _fixed("/playbooks/templates/preview/", {"subject": "Hi {{ account.name }}"}))
    ],
    "playbooks:pools": [Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/pools/"))],
    "playbooks:pool_new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/playbooks/pools/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/playbooks/pools/new/", {"name": ""})),
    ],
    "playbooks:pool_edit": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/playbooks/pools/{w.pool.pk}/edit/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/playbooks/pools/{w.pool.pk}/edit/", {"name": ""}))),
    ],
    "users:list": [
        Page("GET", Cap.ADMIN, _fixed("/settings/users/")),
        Page("POST", Cap.ADMIN, _fixed("/settings/users/", {"username": "newbie", "roles": ["csm"]})),
    ],
    "users:edit": [
        Page("GET", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/users/{w.other.pk}/", {}))),
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/users/{w.other.pk}/", {"roles": ["csm"]}))),
    ],
    "users:set_password": [Page("GET", Cap.PUBLIC, _fixed("/set-password/MQ/not-a-token/"))],
    "notifications:list": [Page("GET", Cap.SIGNED_IN, _fixed("/notifications/"))],
    "notifications:read": [Page("POST", Cap.SIGNED_IN, _fixed("/notifications/read/"))],
    "notifications:unread": [Page("GET", Cap.SIGNED_IN, _fixed("/notifications/unread/"))],
    "notifications:preferences": [Page("POST", Cap.SIGNED_IN, _fixed("/notifications/preferences/", {}))],
    "success:account_milestones": [Page("GET", Cap.VIEW, _on("account", "/success/accounts/{pk}/milestones/"))],
    "success:complete": [Page("POST", Cap.CHANGE, _on("milestone", "/success/milestones/{pk}/complete/"))],
    "success:plan": [Page("GET", Cap.VIEW, _on("account", "/success/accounts/{pk}/plan/"))],
    "success:plan_edit": [
        Page("POST", Cap.CHANGE, _on("account", "/success/accounts/{pk}/plan/edit/", {"service_model": "high_touch"}))
    ],
    "success:outcome_add": [
        Page(
            "POST",
            Cap.CHANGE,
            _on("account", "/success/accounts/{pk}/outcomes/", _OUTCOME_FORM),
            create=True,
        )
    ],
    "success:milestone_add": [
        Page(
            "POST",
            Cap.CHANGE,
            _on(
                "account",
                "/success/accounts/{pk}/milestones/new/",
                {"title": "Admins trained", "due_date": "2026-12-31"},
            ),
            create=True,
        )
    ],
    "traits:list": [
        Page("GET", Cap.CONFIG_VIEW, _fixed("/settings/custom-fields/")),
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _fixed(
                "/settings/custom-fields/", {"entity": "account", "label": "Seats", "key": "seats", "kind": "number"}
            ),
        ),
    ],
    "traits:edit": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/settings/custom-fields/{_trait(w).pk}/", {}))),
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _with(lambda w, r, i: (f"/settings/custom-fields/{_trait(w).pk}/", {"label": "Area"})),
        ),
    ],
    "traits:delete": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/settings/custom-fields/{_trait(w).pk}/delete/", {})))
    ],
    "segments:list": [Page("GET", Cap.CONFIG_VIEW, _fixed("/segments/"))],
    "segments:new": [
        Page("GET", Cap.CONFIG_CHANGE, _fixed("/segments/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/segments/new/", _SEGMENT_FORM)),
    ],
    "segments:builder": [Page("POST", Cap.CONFIG_CHANGE, _fixed("/segments/builder/", {"action": "add_condition"}))],
    "segments:detail": [Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/segments/{_segment(w).pk}/", {})))],
    "segments:edit": [
        Page("GET", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/segments/{_segment(w).pk}/edit/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/segments/{_segment(w).pk}/edit/", _SEGMENT_FORM))),
    ],
    "segments:delete": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/segments/{_segment(w).pk}/delete/", {})))
    ],
    "success:templates": [Page("GET", Cap.CONFIG_VIEW, _fixed("/success/templates/"))],
    "success:template_delete": [
        Page(
            "POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/success/templates/{_plan_template(w).pk}/delete/", {}))
        )
    ],
    "success:template_apply": [
        Page(
            "POST",
            Cap.CHANGE,
            _with(
                lambda w, r, i: (
                    f"/success/accounts/{_objs(w, i).account.pk}/plan/template/",
                    {"template": _plan_template(w).pk},
                )
            ),
            create=True,
        )
    ],
    "success:template_save": [
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _on("account", "/success/accounts/{pk}/plan/save-as-template/", {"name": "From the world"}),
        )
    ],
    "success:portfolio": [Page("GET", Cap.LIST, _fixed("/success/outcomes/"))],
    "success:plan_of": [
        Page("GET", Cap.VIEW, _with(lambda w, r, i: (f"/success/plans/{_objs(w, i).outcome.plan_id}/", {})))
    ],
    "success:plan_export": [Page("GET", Cap.VIEW, _on("account", "/success/accounts/{pk}/plan/export/?format=html"))],
    "success:share_create": [
        Page(
            "POST",
            Cap.CHANGE,
            _with(
                lambda w, r, i: (
                    f"/success/accounts/{_objs(w, i).account.pk}/plan/shares/",
                    {"contact": _objs(w, i).contact.pk, "days": 7},
                )
            ),
            create=True,
        )
    ],
    "success:share_revoke": [
        Page("POST", Cap.CHANGE, _with(lambda w, r, i: (f"/success/shares/{_share(w, i).pk}/revoke/", {})))
    ],
    # The customer's side: no login; the signed link is the key (tests/success/test_sharing.py).
    "shared:plan": [
        Page("GET", Cap.PUBLIC, _with(lambda w, r, i: (_share_path(w, i), {}))),
        Page("POST", Cap.PUBLIC, _with(lambda w, r, i: (_share_path(w, i), {"body": "Looks right"}))),
    ],
    "shared:code": [Page("GET", Cap.PUBLIC, _with(lambda w, r, i: (_share_path(w, i) + "code/", {})))],
    "success:outcome_edit": [
        Page("GET", Cap.VIEW, _on("outcome", "/success/outcomes/{pk}/")),
        Page("POST", Cap.CHANGE, _on("outcome", "/success/outcomes/{pk}/", _OUTCOME_FORM)),
    ],
    "ingest:sources": [
        Page("GET", Cap.SIGNED_IN, _fixed("/sources/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/sources/", {"name": "Billing"})),
    ],
    "ingest:source_rotate": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/sources/{w.source.pk}/rotate/", {})))
    ],
    "ingest:source_revoke": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/sources/{w.source.pk}/revoke/", {})))
    ],
    "ingest:events": [Page("GET", Cap.SIGNED_IN, _fixed("/sources/events/"))],
    "access:rules": [
        Page("GET", Cap.ADMIN, _fixed("/settings/access/")),
        Page(
            "POST",
            Cap.ADMIN,
            _fixed(
                "/settings/access/",
                {"role": "read_only", "read_only-view_accounts": "all", "read_only-change_accounts": "none"},
            ),
        ),
    ],
    "access:team_new": [Page("POST", Cap.ADMIN, _fixed("/settings/access/teams/new/", {"name": "APAC"}))],
    "access:team_edit": [Page("GET", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/access/teams/{w.team.pk}/", {})))],
    "access:team_delete": [
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/access/teams/{w.team.pk}/delete/", {})))
    ],
    "audit:log": [Page("GET", Cap.ADMIN, _fixed("/audit/", {"q": "Inside"}))],
    "audit:history": [
        Page(
            "GET",
            Cap.VIEW,
            _with(lambda w, r, i: (_history_path(_objs(w, i).account), {})),
        )
    ],
    "comments:thread": [
        Page("GET", Cap.VIEW, _on("account", "/comments/account/{pk}/")),
        Page("POST", Cap.CHANGE, _on("account", "/comments/account/{pk}/", {"body": "Looks good"})),
    ],
    "comments:people": [Page("GET", Cap.VIEW, _on("account", "/comments/account/{pk}/people/", {"q": "a"}))],
    "comments:delete": [
        Page("POST", Cap.DELETE, _with(lambda w, r, i: (f"/comments/{_comment(w, i).pk}/delete/", {})))
    ],
    "webhooks:list": [Page("GET", Cap.ADMIN, _fixed("/settings/webhooks/"))],
    "webhooks:new": [
        Page("GET", Cap.ADMIN, _fixed("/settings/webhooks/new/")),
        Page(
            "POST",
            Cap.ADMIN,
            _fixed("/settings/webhooks/new/", {"name": "CRM", "kind": "standard", "url": "https://example.com/h"}),
        ),
    ],
    "webhooks:detail": [
        Page("GET", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/webhooks/{_webhook().pk}/", {}))),
        Page(
            "POST",
            Cap.ADMIN,
            _with(
                lambda w, r, i: (
                    f"/settings/webhooks/{_webhook().pk}/",
                    {"name": "CRM", "kind": "standard", "url": "https://example.com/h", "is_active": "on"},
                )
            ),
        ),
    ],
    "webhooks:rotate": [
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/webhooks/{_webhook().pk}/rotate-secret/", {})))
    ],
    "webhooks:test": [
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/webhooks/{_webhook().pk}/test/", {})))
    ],
    "webhooks:delete": [
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/webhooks/{_webhook().pk}/delete/", {})))
    ],
    "webhooks:replay": [
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/webhooks/deliveries/{_delivery().pk}/replay/", {})))
    ],
    # Meetings (tandem.meetings): on an account like the other customer data; the calendar page is one's own.
    "meetings:mine": [Page("GET", Cap.LIST, _fixed("/meetings/"))],
    "meetings:new": [
        Page("GET", Cap.CHANGE, _on("account", "/meetings/accounts/{pk}/new/")),
        Page("POST", Cap.CHANGE, _on("account", "/meetings/accounts/{pk}/new/", _MEETING_FORM), create=True),
    ],
    "meetings:account_section": [Page("GET", Cap.VIEW, _on("account", "/meetings/accounts/{pk}/section/"))],
    "meetings:detail": [Page("GET", Cap.VIEW, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}/", {})))],
    "meetings:edit": [
        Page("GET", Cap.CHANGE, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}/edit/", {}))),
        Page("POST", Cap.CHANGE, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}/edit/", _MEETING_FORM))),
    ],
    "meetings:cancel": [
        Page("POST", Cap.CHANGE, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}/cancel/", {})))
    ],
    "meetings:notes": [
        Page(
            "POST",
            Cap.CHANGE,
            _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}/notes/", {"summary": "Went well"})),
        )
    ],
    "meetings:calendar": [Page("GET", Cap.SIGNED_IN, _fixed("/meetings/calendar/"))],
    "meetings:feed_rotate": [Page("POST", Cap.SIGNED_IN, _fixed("/meetings/calendar/feed/rotate/"))],
    "meetings:feed_revoke": [Page("POST", Cap.SIGNED_IN, _fixed("/meetings/calendar/feed/revoke/"))],
    "meetings:caldav_save": [
        Page("POST", Cap.SIGNED_IN, _fixed("/meetings/calendar/caldav/", {"url": "https://93.184.215.14/dav/"}))
    ],
    "meetings:caldav_delete": [Page("POST", Cap.SIGNED_IN, _fixed("/meetings/calendar/caldav/delete/"))],
    # No login: the token in the URL is the credential (an unknown token is a 404 for everyone).
    "meetings_feed:feed": [Page("GET", Cap.PUBLIC, _with(lambda w, r, i: (f"/calendar/{_feed(w, r)}.ics", {})))],
    # Email logging: the BCC page is everyone's own (read-only sees it without the form), logged mail
    # assigned to an account is that account's customer data.
    "maillog:address": [Page("GET", Cap.SIGNED_IN, _fixed("/mail/address/"))],
    "maillog:rotate": [Page("POST", Cap.WRITE, _fixed("/mail/address/rotate/"))],
    "maillog:unassigned": [Page("GET", Cap.LIST, _fixed("/mail/unassigned/"))],
    "maillog:detail": [Page("GET", Cap.VIEW, _with(lambda w, r, i: (f"/mail/{_mail(w, i).pk}/", {})))],
    "maillog:assign": [
        Page(
            "POST",
            Cap.CHANGE,
            _with(lambda w, r, i: (f"/mail/{_mail(w, i).pk}/assign/", {"account": f"#{_objs(w, i).account.pk}"})),
        )
    ],
    "maillog:attachment": [
        Page(
            "GET",
            Cap.VIEW,
            _with(lambda w, r, i: (f"/mail/{_mail(w, i).pk}/attachments/{_mail_attachment(w, i).pk}/", {})),
        )
    ],
    # Served to API clients and to the docs page; they reveal no customer data.
    "api:openapi-json": [Page("GET", Cap.SIGNED_IN, _fixed("/api/v1/openapi.json"))],
    "api:openapi-view": [Page("GET", Cap.SIGNED_IN, _fixed("/api/v1/docs"))],
}


def _meeting(w: World, inside: bool) -> Any:
    """A meeting on the inside or outside account, created once per test as a fixture."""
    from tandem.audit.context import audit_context
    from tandem.meetings.models import Meeting

    account = _objs(w, inside).account
    start = timezone.now() + dt.timedelta(days=3)
    with audit_context(via="fixture"):
        return Meeting.objects.get_or_create(
            uid=f"access-{account.pk}@tandem",
            defaults={"account": account, "title": "QBR", "starts_at": start, "ends_at": start + dt.timedelta(hours=1)},
        )[0]


def _trait(w: World) -> Any:
    from tandem.audit.context import audit_context
    from tandem.traits.models import TraitDefinition

    with audit_context(via="fixture"):
        return TraitDefinition.objects.get_or_create(entity="account", key="region", defaults={"label": "Region"})[0]


def _plan_template(w: World) -> Any:
    from tandem.audit.context import audit_context
    from tandem.success.models import PlanTemplate

    with audit_context(via="fixture"):
        return PlanTemplate.objects.get_or_create(
            name="Onboarding",
            defaults={
                "outcomes": [{"title": "Go live", "kpi_kind": "reported", "target": 1, "target_days": 30}],
                "milestones": [{"title": "Kick-off", "due_days": 7, "outcome": 0}],
            },
        )[0]


def _segment(w: World) -> Any:
    from tandem.audit.context import audit_context
    from tandem.segments.models import Segment

    with audit_context(via="fixture"):
        return Segment.objects.get_or_create(
            name="Enterprise", defaults={"conditions": [{"field": "tier", "op": "eq", "value": "enterprise"}]}
        )[0]


def _share(w: World, inside: bool) -> Any:
    """The inside or outside account's plan shared with its contact, created once per test as a fixture."""
    from tandem.audit.context import audit_context
    from tandem.success.models import PlanShare

    objs = _objs(w, inside)
    with audit_context(via="fixture"):
        return PlanShare.objects.get_or_create(
            plan=objs.outcome.plan,
            contact=objs.contact,
            defaults={
                "key": f"access-{objs.account.pk}",
                "language": "fa",
                "expires_at": timezone.now() + dt.timedelta(days=7),
            },
        )[0]


def _share_path(w: World, inside: bool) -> str:
    from tandem.success.sharing import share_path

    return share_path(_share(w, inside))


def _feed(w: World, role: Role) -> str:
    from tandem.audit.context import audit_context
    from tandem.meetings.models import CalendarFeed

    user = w.users[role]
    with audit_context(via="fixture"):
        return CalendarFeed.objects.get_or_create(user=user, defaults={"token": f"feed-{user.pk}-token"})[0].token


def _webhook() -> Any:
    """An endpoint for the webhook pages, created once per test as a fixture."""
    from tandem.audit.context import audit_context
    from tandem.webhooks.models import Endpoint

    with audit_context(via="fixture"):
        return Endpoint.objects.get_or_create(
            name="CRM sync", defaults={"url": "https://example.com/h", "secret": "whsec_x"}
        )[0]


def _comment(w: World, inside: bool) -> Any:
    """A colleague's comment on the account (created once per test as a fixture)."""
    from tandem.audit.context import audit_context
    from tandem.comments.models import Comment

    account = _objs(w, inside).account
    with audit_context(via="fixture"):
        return Comment.objects.get_or_create(
            content_type=ContentType.objects.get_for_model(account),
            object_id=account.pk,
            account=account,
            author=w.other,
            defaults={"body": "Renewal risk?"},
        )[0]


def _mail(w: World, inside: bool) -> Any:
    """A logged email on the inside or outside account, created once per test as a fixture."""
    from tandem.audit.context import audit_context
    from tandem.maillog.models import LoggedEmail

    account = _objs(w, inside).account
    with audit_context(via="fixture"):
        return LoggedEmail.objects.get_or_create(
            account=account,
            dedupe_key=f"mid:{account.pk}@test",
            defaults={
                "user": account.csm_owner,
                "direction": "in",
                "from_address": "dana@customer.example",
                "sent_at": timezone.now(),
                "received_via": "smtp",
            },
        )[0]


def _mail_attachment(w: World, inside: bool) -> Any:
    from django.core.files.base import ContentFile

    from tandem.audit.context import audit_context
    from tandem.maillog.models import MailAttachment

    email = _mail(w, inside)
    found = MailAttachment.objects.filter(email=email).first()
    if found:
        return found
    with audit_context(via="fixture"):
        row = MailAttachment(email=email, filename="quote.pdf", content_type="application/pdf", size=4)
        row.file.save("quote.pdf", ContentFile(b"%PDF"), save=True)
        return row


def _interaction_attachment(w: World, inside: bool) -> Any:
    from django.core.files.base import ContentFile

    from tandem.audit.context import audit_context
    from tandem.timeline.models import InteractionAttachment

    interaction = _objs(w, inside).interaction
    found = InteractionAttachment.objects.filter(interaction=interaction).first()
    if found:
        return found
    with audit_context(via="fixture"):
        row = InteractionAttachment(
            interaction=interaction, filename="notes.txt", content_type="text/plain", size=5, uploaded_by=w.other
        )
        row.file.save("notes.txt", ContentFile(b"notes"), save=True)
        return row


def _delivery() -> Any:
    from tandem.webhooks.models import Delivery

    return Delivery.objects.get_or_create(
        endpoint=_webhook(), message_id="evt_1", defaults={"event_type": "account.updated", "payload": {}}
    )[0]


# Not decided here, and why.
EXEMPT = {
    "ingest:track": "authenticated by a source's write key, not by a user (tests/ingest/test_tracking_api.py)",
    "api:api-root": "django-ninja's root: a 404 problem for everyone, it serves nothing",
}


# --- what each API operation needs ------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    cap: Cap
    build: Build
    create: bool = False
    multipart: bool = False  # an upload: the body is sent as a form, its files built afresh per request


def _api_on(attr: str, template: str, body: dict[str, Any] | None = None) -> Build:
    return _on(attr, template, body)


def _api_create(body: Callable[[World, bool], dict[str, Any]]) -> Build:
    return lambda w, role, inside: ("", body(w, inside))


OPERATIONS: dict[str, Operation] = {
    "list_accounts": Operation(Cap.LIST, _fixed("/accounts/")),
    "create_account": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {
                "name": "New",
                "csm_owner": (w.users[Role.CSM] if i else w.other).pk,
                "am_owner": w.users[Role.ACCOUNT_MANAGER].pk if i else None,
            }
        ),
        create=True,
    ),
    "get_account": Operation(Cap.VIEW, _api_on("account", "/accounts/{pk}")),
    "update_account": Operation(Cap.CHANGE, _api_on("account", "/accounts/{pk}", {"industry": "Software"})),
    "delete_account": Operation(Cap.DELETE, _api_on("account", "/accounts/{pk}")),
    "list_contacts": Operation(Cap.LIST, _fixed("/contacts/")),
    "create_contact": Operation(
        Cap.CHANGE,
        _api_create(lambda w, i: {"account": _objs(w, i).account.pk, "first_name": "Kim", "email": "kim@new.example"}),
        create=True,
    ),
    "get_contact": Operation(Cap.VIEW, _api_on("contact", "/contacts/{pk}")),
    "update_contact": Operation(Cap.CHANGE, _api_on("contact", "/contacts/{pk}", {"title": "CTO"})),
    "delete_contact": Operation(Cap.DELETE, _api_on("contact", "/contacts/{pk}")),
    "list_subscriptions": Operation(Cap.LIST, _fixed("/subscriptions/")),
    "create_subscription": Operation(
        Cap.COMMERCIAL,
        _api_create(
            lambda w, i: {
                "account": _objs(w, i).account.pk,
                "start_date": TODAY.isoformat(),
                "end_date": (TODAY + dt.timedelta(days=364)).isoformat(),
                "items": [{"product": ProductFactory(code="seat").pk, "unit_price": "10.00", "quantity": "2"}],
            }
        ),
        create=True,
    ),
    "get_subscription": Operation(Cap.VIEW, _api_on("subscription", "/subscriptions/{pk}")),
    "update_subscription": Operation(
        Cap.COMMERCIAL, _api_on("subscription", "/subscriptions/{pk}", {"auto_renew": False})
    ),
    "delete_subscription": Operation(Cap.DELETE, _api_on("subscription", "/subscriptions/{pk}")),
    "list_tickets": Operation(Cap.LIST, _fixed("/tickets/")),
    "create_ticket": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {
                "account": _objs(w, i).account.pk,
                "subject": "Login fails",
                "opened_at": timezone.now().isoformat(),
            }
        ),
        create=True,
    ),
    "get_ticket": Operation(Cap.VIEW, _api_on("ticket", "/tickets/{pk}")),
    "update_ticket": Operation(Cap.CHANGE, _api_on("ticket", "/tickets/{pk}", {"priority": "high"})),
    "delete_ticket": Operation(Cap.DELETE, _api_on("ticket", "/tickets/{pk}")),
    "list_interactions": Operation(Cap.LIST, _fixed("/interactions/")),
    "create_interaction": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {"account": _objs(w, i).account.pk, "kind": "call", "occurred_at": timezone.now().isoformat()}
        ),
        create=True,
    ),
    "get_interaction": Operation(Cap.VIEW, _api_on("interaction", "/interactions/{pk}")),
    "update_interaction": Operation(Cap.CHANGE, _api_on("interaction", "/interactions/{pk}", {"subject": "QBR"})),
    "delete_interaction": Operation(Cap.DELETE, _api_on("interaction", "/interactions/{pk}")),
    "list_attachments": Operation(Cap.VIEW, _api_on("interaction", "/interactions/{pk}/attachments")),
    "create_attachment": Operation(
        Cap.CHANGE, _api_on("interaction", "/interactions/{pk}/attachments"), multipart=True
    ),
    "download_attachment": Operation(
        Cap.VIEW,
        _with(
            lambda w, r, i: (
                f"/interactions/{_objs(w, i).interaction.pk}/attachments/{_interaction_attachment(w, i).pk}",
                {},
            )
        ),
    ),
    "delete_attachment": Operation(
        Cap.CHANGE,
        _with(
            lambda w, r, i: (
                f"/interactions/{_objs(w, i).interaction.pk}/attachments/{_interaction_attachment(w, i).pk}",
                {},
            )
        ),
    ),
    "account_timeline": Operation(Cap.VIEW, _api_on("account", "/accounts/{pk}/timeline", {"type": "note"})),
    "contact_timeline": Operation(Cap.VIEW, _api_on("contact", "/contacts/{pk}/timeline")),
    "list_meetings": Operation(Cap.LIST, _fixed("/meetings/")),
    "create_meeting": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {
                "account": _objs(w, i).account.pk,
                "kind": "qbr",
                "title": "QBR",
                "starts_at": f"{_LATER}T10:00:00Z",
                "ends_at": f"{_LATER}T11:00:00Z",
            }
        ),
        create=True,
    ),
    "get_meeting": Operation(Cap.VIEW, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}", {}))),
    "update_meeting": Operation(
        Cap.CHANGE, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}", {"title": "Moved QBR"}))
    ),
    "cancel_meeting": Operation(Cap.CHANGE, _with(lambda w, r, i: (f"/meetings/{_meeting(w, i).pk}/cancel", {}))),
    "list_nps_responses": Operation(Cap.LIST, _fixed("/nps-responses/")),
    "get_success_plan": Operation(Cap.VIEW, _api_on("account", "/accounts/{pk}/success-plan")),
    "set_success_plan": Operation(
        Cap.CHANGE, _api_on("account", "/accounts/{pk}/success-plan", {"service_model": "high_touch"})
    ),
    "add_success_outcome": Operation(
        Cap.CHANGE,
        _api_on("account", "/accounts/{pk}/success-plan/outcomes", {**_OUTCOME_FORM, "target": 50}),
        create=True,
    ),
    "change_success_outcome": Operation(
        Cap.CHANGE,
        _with(
            lambda w, r, i: (
                f"/accounts/{_objs(w, i).account.pk}/success-plan/outcomes/{_objs(w, i).outcome.pk}",
                {**_OUTCOME_FORM, "target": 60},
            )
        ),
    ),
    "add_success_milestone": Operation(
        Cap.CHANGE,
        _api_on("account", "/accounts/{pk}/success-plan/milestones", {"title": "Go live", "due_date": "2026-12-31"}),
        create=True,
    ),
    "list_success_plan_shares": Operation(Cap.VIEW, _api_on("account", "/accounts/{pk}/success-plan/shares")),
    "share_success_plan": Operation(
        Cap.CHANGE,
        _with(
            lambda w, r, i: (
                f"/accounts/{_objs(w, i).account.pk}/success-plan/shares",
                {"contact": _objs(w, i).contact.pk},
            )
        ),
        create=True,
    ),
    "revoke_success_plan_share": Operation(
        Cap.CHANGE,
        _with(lambda w, r, i: (f"/accounts/{_objs(w, i).account.pk}/success-plan/shares/{_share(w, i).pk}/revoke", {})),
    ),
    "complete_success_milestone": Operation(
        Cap.CHANGE,
        _with(
            lambda w, r, i: (
                f"/accounts/{_objs(w, i).account.pk}/success-plan/milestones/{_objs(w, i).milestone.pk}/complete",
                {"evidence": "Signed off"},
            )
        ),
    ),
    "create_nps_response": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {"account": _objs(w, i).account.pk, "score": 9, "responded_at": timezone.now().isoformat()}
        ),
        create=True,
    ),
    "list_triggers": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/triggers")),
    "list_rules": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/rules")),
    "create_rule": Operation(
        Cap.CONFIG_CHANGE,
        _with(
            lambda w, r, i: (
                "/playbooks/rules",
                {"name": "New rule", "trigger": "health_band", "playbook": w.rule.playbook_id},
            )
        ),
    ),
    "preview_rule": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/rules/preview", {"trigger": "health_band"})),
    "update_rule": Operation(
        Cap.CONFIG_CHANGE,
        _with(
            lambda w, r, i: (
                f"/playbooks/rules/{w.rule.pk}",
                {"name": "Renamed", "trigger": "health_band", "playbook": w.rule.playbook_id},
            )
        ),
    ),
    "list_ctas": Operation(Cap.LIST, _fixed("/playbooks/ctas")),
    "install_library": Operation(Cap.CONFIG_CHANGE, _fixed("/playbooks/library/install", {"with_metrics": False})),
    "list_playbooks": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/playbooks")),
    "create_playbook": Operation(
        Cap.CONFIG_CHANGE, _fixed("/playbooks/playbooks", {"name": "Check-in", "steps": [{"title": "Call"}]})
    ),
    "update_playbook": Operation(
        Cap.CONFIG_CHANGE,
        _with(lambda w, r, i: (f"/playbooks/playbooks/{w.rule.playbook_id}", {"name": "Save", "steps": []})),
    ),
    "list_email_templates": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/email-templates")),
    "create_email_template": Operation(
        Cap.CONFIG_CHANGE, _fixed("/playbooks/email-templates", {"name": "Hello", "subject": "Hi", "body": "Hello"})
    ),
    "update_email_template": Operation(
        Cap.CONFIG_CHANGE,
        _with(
            lambda w, r, i: (
                f"/playbooks/email-templates/{_template(w).pk}",
                {"name": "Check", "subject": "Hi", "body": "Hello"},
            )
        ),
    ),
    "preview_email_template": Operation(
        Cap.CONFIG_VIEW, _fixed("/playbooks/email-templates/preview", {"subject": "Hi {{ account.name }}"})
    ),
    "list_pools": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/pools")),
    "create_pool": Operation(Cap.CONFIG_CHANGE, _fixed("/playbooks/pools", {"name": "Night shift"})),
    "update_pool": Operation(
        Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/playbooks/pools/{w.pool.pk}", {"name": "Digital pool"}))
    ),
    "invite_user": Operation(Cap.ADMIN, _fixed("/users/invite", {"username": "newbie", "roles": ["csm"]})),
    "update_user": Operation(Cap.ADMIN, _with(lambda w, r, i: (f"/users/{w.other.pk}", {"roles": ["csm"]}))),
    "my_day": Operation(Cap.SIGNED_IN, _fixed("/playbooks/my-day")),
    "create_cta": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {
                "account": _objs(w, i).account.pk,
                "title": "Plan the QBR",
                "due_date": (TODAY + dt.timedelta(days=7)).isoformat(),
            }
        ),
        create=True,
    ),
    "close_cta": Operation(Cap.CHANGE, _api_on("cta", "/playbooks/ctas/{pk}/close", {"outcome": "success"})),
    "revenue_summary_endpoint": Operation(
        Cap.COMPANY, _fixed("/revenue/summary", {"date_from": "2026-01-01", "date_to": "2026-06-30"})
    ),
    "revenue_cohorts": Operation(Cap.COMPANY, _fixed("/revenue/cohorts")),
    "retention_fit": Operation(Cap.SIGNED_IN, _fixed("/revenue/retention/fit", {"survivors": [100, 80, 70, 65]})),
    "list_opportunities": Operation(Cap.LIST, _fixed("/opportunities/")),
    "create_opportunity": Operation(
        Cap.COMMERCIAL,
        _api_create(
            lambda w, i: {
                "account_id": _objs(w, i).account.pk,
                "kind": "upsell",
                "amount": "1000",
                "close_date": (TODAY + dt.timedelta(days=30)).isoformat(),
            }
        ),
        create=True,
    ),
    "move_opportunity_stage": Operation(
        Cap.COMMERCIAL, _api_on("expansion", "/opportunities/{pk}/stage", {"stage": "propose"})
    ),
    "close_renewal": Operation(Cap.COMMERCIAL, _api_on("renewal", "/opportunities/{pk}/close-renewal", {})),
    "forecast_endpoint": Operation(
        Cap.COMPANY, _fixed("/opportunities/forecast", {"period_start": "2026-10-01", "period_end": "2026-12-31"})
    ),
    "get_account_health": Operation(Cap.VIEW, _api_on("account", "/health/accounts/{pk}")),
    "list_current": Operation(Cap.LIST, _fixed("/health/current")),
    "list_scorecards": Operation(Cap.CONFIG_VIEW, _fixed("/health/scorecards")),
    "list_products": Operation(Cap.CONFIG_VIEW, _fixed("/products/")),
    "create_product": Operation(Cap.CONFIG_CHANGE, _fixed("/products/", {"code": "gold", "name": "Gold"})),
    "update_product": Operation(
        Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/products/{_product().pk}", {"name": "Gold"}))
    ),
    "create_scorecard": Operation(Cap.CONFIG_CHANGE, _fixed("/health/scorecards", {"name": "Second opinion"})),
    "add_measure": Operation(
        Cap.CONFIG_CHANGE,
        _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/measures", {"metric": _metric().key})),
    ),
    "remove_measure": Operation(
        Cap.CONFIG_CHANGE,
        _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/measures/{_measure(w).pk}", {})),
    ),
    "list_event_types": Operation(Cap.ADMIN, _fixed("/webhooks/event-types")),
    "list_endpoints": Operation(Cap.ADMIN, _fixed("/webhooks/endpoints")),
    "create_endpoint": Operation(
        Cap.ADMIN, _fixed("/webhooks/endpoints", {"name": "CRM", "url": "https://example.com/h"})
    ),
    "get_endpoint": Operation(Cap.ADMIN, _with(lambda w, r, i: (f"/webhooks/endpoints/{_webhook().pk}", {}))),
    "update_endpoint": Operation(
        Cap.ADMIN,
        _with(
            lambda w, r, i: (f"/webhooks/endpoints/{_webhook().pk}", {"name": "CRM", "url": "https://example.com/h"})
        ),
    ),
    "delete_endpoint": Operation(Cap.ADMIN, _with(lambda w, r, i: (f"/webhooks/endpoints/{_webhook().pk}", {}))),
    "test_endpoint": Operation(Cap.ADMIN, _with(lambda w, r, i: (f"/webhooks/endpoints/{_webhook().pk}/test", {}))),
    "list_deliveries": Operation(
        Cap.ADMIN, _with(lambda w, r, i: (f"/webhooks/endpoints/{_webhook().pk}/deliveries", {}))
    ),
    "replay_delivery": Operation(
        Cap.ADMIN, _with(lambda w, r, i: (f"/webhooks/deliveries/{_delivery().pk}/replay", {}))
    ),
    "list_users": Operation(Cap.SIGNED_IN, _fixed("/users/")),
    "list_logged_emails": Operation(Cap.LIST, _fixed("/mail/messages")),
    "get_logged_email": Operation(Cap.VIEW, _with(lambda w, r, i: (f"/mail/messages/{_mail(w, i).pk}", {}))),
    "assign_logged_email": Operation(
        Cap.CHANGE,
        _with(lambda w, r, i: (f"/mail/messages/{_mail(w, i).pk}/assign", {"account_id": _objs(w, i).account.pk})),
    ),
}


# --- enumeration --------------------------------------------------------------------------------


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue  # Django's admin: staff only, checked in test_admin_site_is_for_staff
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver(), "")
    return names


def _api_operations() -> dict[str, tuple[str, str]]:
    from tandem.api.main import api

    schema = api.get_openapi_schema()
    return {
        op["operationId"]: (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }


def test_every_url_and_operation_has_a_decided_access(db):
    undecided_pages = _url_names() - set(PAGES) - set(EXEMPT)
    # ninja names each operation's URL after its view function: those are the API operations below.
    operations = _api_operations()
    undecided_pages -= set(f"api:{name}" for name in operations)
    assert not undecided_pages, f"decide the access of these URLs in tests/access/test_every_url.py: {undecided_pages}"
    assert not set(PAGES) - _url_names() - set(EXEMPT), "PAGES names URLs that no longer exist"
    assert set(operations) == set(OPERATIONS), (
        f"decide the access of these API operations: {set(operations) - set(OPERATIONS)}; "
        f"gone: {set(OPERATIONS) - set(operations)}"
    )


# --- the requests ----------------------------------------------------------------------------------


def _outcome(status: int) -> str:
    if status in (401, 403):
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    assert status < 500, status
    assert status != 405, "wrong method in the table"
    return OK


def _matches(outcome: str, want: str) -> bool:
    return outcome == want or (want == REFUSED and outcome in (FORBIDDEN, HIDDEN))


def _rolled_back(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with transaction.atomic():
        response = call(*args, **kwargs)
        transaction.set_rollback(True)
    return response


def _hidden_values(value: Any, path: str = "") -> list[str]:
    """Contract-value keys that carry a value in a JSON document (for readers who may not see them)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CONTRACT_VALUE_KEYS and item is not None:
                found.append(f"{path}.{key}")
            found += _hidden_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _hidden_values(item, f"{path}.{index}")
    return found


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access(world: World, name: str):
    for page in PAGES[name]:
        anonymous_path, anonymous_data = page.build(world, Role.ADMIN, True)
        anonymous = _rolled_back(Client().generic, page.method, anonymous_path, **_form(anonymous_data))
        if page.cap == Cap.PUBLIC:
            assert anonymous.status_code < 400, (name, anonymous.status_code)
        elif name.startswith("api:"):
            assert anonymous.status_code in (200, 401, 302), (name, anonymous.status_code)
        else:
            assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/"), (
                name,
                anonymous.status_code,
            )
        for role in ROLES:
            client = Client()
            client.force_login(world.users[role])
            for inside in (True, False):
                path, data = page.build(world, role, inside)
                response = _rolled_back(client.generic, page.method, path, **_form(data))
                want = (expected_create if page.create else expected)(page.cap, role, inside)
                got = _outcome(response.status_code)
                assert _matches(got, want), f"{page.method} {path} as {role.value} ({inside=}): {got}, want {want}"
                if got == FORBIDDEN and page.method == "GET" and not name.startswith("api:"):
                    assert b'class="topbar"' in response.content, f"{path}: a refusal is a page in the app's layout"


def _form(data: dict[str, Any]) -> dict[str, Any]:
    from urllib.parse import urlencode

    return {"data": urlencode(data, doseq=True), "content_type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_api_operation_access(world: World, name: str):
    method, template = _api_operations()[name]
    operation = OPERATIONS[name]
    for role in ROLES:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {world.secrets[world.users[role].pk]}")
        for inside in (True, False):
            path, body = operation.build(world, role, inside)
            path = path or template
            if method == "GET":
                response = _rolled_back(client.get, f"/api/v1{path}", body)
            elif operation.multipart:
                upload = SimpleUploadedFile("notes.txt", b"Agreed the rollout plan.", content_type="text/plain")
                response = _rolled_back(client.post, f"/api/v1{path}", {**body, "file": upload})
            else:
                response = _rolled_back(
                    client.generic, method, f"/api/v1{path}", json.dumps(body), content_type="application/json"
                )
            want = (expected_create if operation.create else expected)(operation.cap, role, inside)
            got = _outcome(response.status_code)
            assert _matches(got, want), (
                f"{method} {path} as {role.value} ({inside=}): {response.status_code} {response.content[:300]!r}, "
                f"want {want}"
            )
            if got == OK and role in (Role.CSM, Role.READ_ONLY) and not response.streaming and response.content:
                leaked = _hidden_values(response.json())
                assert not leaked, f"{method} {path} as {role.value} shows contract values: {leaked}"
    anonymous = Client().generic(method, f"/api/v1{template.replace('{', '').replace('}', '')}")
    assert anonymous.status_code in (401, 404, 422), (name, anonymous.status_code)


def test_admin_site_is_for_staff(world: World):
    for role in ROLES:
        client = Client()
        client.force_login(world.users[role])
        response = client.get("/admin/")
        if world.users[role].is_staff:
            assert response.status_code == 200
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
