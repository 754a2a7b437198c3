"""The REST API: NPS responses, rules with validation and preview, CTAs."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tandem.playbooks.models import CallToAction
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import rules_evaluate
from tests.api.helpers import api_fixture, assert_problem, readonly_api_fixture  # noqa: F401
from tests.factories import AccountFactory, ContactFactory, as_fixture
from tests.playbooks.helpers import playbook_with

pytestmark = pytest.mark.django_db


def test_nps_responses_create_list_and_refuse_a_foreign_contact(api, readonly_api) -> None:
    account, other = AccountFactory(), AccountFactory()
    contact = ContactFactory(account=account)
    body = {
        "account": account.pk,
        "contact": contact.pk,
        "score": 4,
        "comment": "Slow",
        "responded_at": "2025-06-01T10:00:00Z",
    }
    created = api.post("/nps-responses/", body)
    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0} == {
        "id": 0,
        "account": account.pk,
        "contact": contact.pk,
        "score": 4,
        "category": "detractor",
        "comment": "Slow",
        "responded_at": "2025-06-01T10:00:00Z",
        "external_id": None,
    }
    assert_problem(api.post("/nps-responses/", body | {"contact": ContactFactory(account=other).pk}), 400, ["contact"])
    assert_problem(api.post("/nps-responses/", body | {"score": 11}), 422, ["score"])
    assert_problem(readonly_api.post("/nps-responses/", body), 403)
    listed = readonly_api.get("/nps-responses/", {"max_score": 6}).json()
    assert listed["count"] == 1 and listed["items"][0]["score"] == 4


def test_rules_validate_preview_and_ctas(api) -> None:
    playbook = playbook_with("api")
    bad = api.post("/playbooks/rules", {"name": "x", "trigger": "nope", "playbook": playbook.pk})
    assert_problem(bad, 422, ["trigger"])  # the schema lists the triggers: an unknown one is invalid input
    bad = api.post(
        "/playbooks/rules",
        {
            "name": "x",
            "trigger": "renewal_within",
            "params": {"dayz": 3},
            "conditions": [{"field": "password", "op": "eq", "value": 1}],
            "playbook": playbook.pk,
        },
    )
    assert_problem(bad, 400, ["params", "conditions"])
    today = timezone.localdate()
    account = AccountFactory(renewal_date=today, tier="enterprise")
    AccountFactory(renewal_date=today, tier="smb")
    rule = {
        "name": "Renewal",
        "trigger": "renewal_within",
        "params": {"days": 10},
        "conditions": [{"field": "tier", "op": "eq", "value": "enterprise"}],
        "playbook": playbook.pk,
        "cta_type": "renewal",
    }
    preview = api.post("/playbooks/rules/preview", rule)
    assert preview.json()["count"] == 1 and preview.json()["accounts"][0]["id"] == account.pk
    created = api.post("/playbooks/rules", rule)
    assert created.status_code == 201, created.content
    with as_fixture():
        rules_evaluate(acting_user=None, today=today, providers=Providers())
    ctas = api.get("/playbooks/ctas", {"status": "open"}).json()
    assert ctas["count"] == 1 and ctas["items"][0]["account"] == account.pk
    cta_id = ctas["items"][0]["id"]
    closed = api.post(f"/playbooks/ctas/{cta_id}/close", {"outcome": "success", "reason": "Renewed"})
    assert closed.json()["status"] == "closed"
    assert_problem(api.post(f"/playbooks/ctas/{cta_id}/close", {"outcome": "success"}), 409, ["status"])
    assert CallToAction.objects.get().outcome == "success"
