"""Set-up pages and API: forms show errors on their fields and save nothing; read-only people see no forms."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tandem.playbooks.models import EmailTemplate, Playbook, Rule, WorkPool
from tandem.playbooks.services import library_install
from tandem.users.models import User
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.api.helpers import api_client_for, assert_problem
from tests.factories import as_fixture

pytestmark = pytest.mark.django_db


def _client(role: Role, username: str) -> tuple[Client, User]:
    with as_fixture():
        user = user_create(acting_user=None, username=username, password="correct-horse-battery", roles=[role])
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def manager() -> Client:
    return _client(Role.CS_MANAGER, "max")[0]


@pytest.fixture
def installed(db) -> None:
    with as_fixture():
        library_install(acting_user=None, language="en", with_metrics=False)


def test_the_library_installs_from_settings_in_one_click(manager) -> None:
    settings_page = manager.get("/settings/").content.decode()
    assert 'data-testid="library-callout"' in settings_page
    response = manager.post("/playbooks/library/", {"language": "ja", "with_metrics": "on"}, follow=True)
    assert response.status_code == 200
    assert Playbook.objects.count() == 10 and Rule.objects.count() == 15 and WorkPool.objects.count() == 1
    assert Playbook.objects.get(key="onboarding-kickoff").name == "オンボーディング・キックオフ"
    assert 'data-testid="library-callout"' not in manager.get("/settings/").content.decode()


def test_read_only_people_see_the_set_up_but_no_form(installed) -> None:
    viewer, _user = _client(Role.READ_ONLY, "vera")
    csm, _csm = _client(Role.CSM, "cara")
    playbook = Playbook.objects.get(key="usage-drop")
    rule = Rule.objects.get(key="usage-drop")
    template = EmailTemplate.objects.get(key="welcome")
    pool = WorkPool.objects.get()
    for client in (viewer, csm):
        for path in (
            "/settings/",
            "/playbooks/library/",
            f"/playbooks/playbooks/{playbook.pk}/",
            f"/playbooks/rules/{rule.pk}/",
            f"/playbooks/templates/{template.pk}/",
            f"/playbooks/pools/{pool.pk}/edit/",
        ):
            page = client.get(path)
            assert page.status_code == 200, path
            main = page.content.decode().split('<main id="main"')[1].split("</main>")[0]
            assert "<form" not in main and "hx-post" not in main, path
        assert client.get("/playbooks/rules/new/").status_code == 403
        assert client.post("/playbooks/library/", {"language": "en"}).status_code == 403
        assert client.get("/settings/users/").status_code == 403


def test_the_rule_builder_adds_rows_and_saves_conditions_as_json(manager, installed) -> None:
    playbook = Playbook.objects.get(key="usage-drop")
    base = {"trigger": "health_score_below", "param-threshold": "35", "cond-count": "0"}
    added = manager.post("/playbooks/rules/builder/", base | {"action": "add_condition"}).content.decode()
    assert added.count('data-testid="condition-row"') == 1 and 'name="cond-0-value"' in added
    arr = manager.post(
        "/playbooks/rules/builder/",
        base | {"cond-count": "1", "cond-0-subject": "field:arr", "cond-0-op": "eq", "action": "refresh"},
    ).content.decode()
    assert 'type="number"' in arr  # a number field for ARR, a list for tier
    form = base | {
        "name": "Big and poorly",
        "playbook": playbook.pk,
        "cta_type": "risk",
        "priority": "3",
        "owner_role": "csm",
        "due_in_days": "5",
        "reopen_after_days": "30",
        "is_active": "on",
        "cond-count": "2",
        "cond-0-subject": "field:tier",
        "cond-0-op": "in",
        "cond-0-value": ["enterprise", "mid_market"],
        "cond-1-subject": "field:arr",
        "cond-1-op": "gte",
        "cond-1-value": "10000",
        "action": "save",
    }
    saved = manager.post("/playbooks/rules/new/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    rule = Rule.objects.get(name="Big and poorly")
    assert rule.params == {"threshold": 35}
    assert rule.conditions == [
        {"field": "tier", "op": "in", "value": ["enterprise", "mid_market"]},
        {"field": "arr", "op": "gte", "value": 10000.0},
    ]
    preview = manager.post("/playbooks/rules/preview/", form).content.decode()
    assert 'data-testid="preview-count"' in preview


def test_a_rule_form_error_is_on_its_field_and_nothing_is_saved(manager, installed) -> None:
    response = manager.post(
        "/playbooks/rules/new/",
        {"trigger": "health_score_below", "param-threshold": "", "name": "", "cond-count": "0", "action": "save"},
    )
    assert response.status_code == 400
    assert Rule.objects.filter(key__isnull=True).count() == 0
    assert b"This field is required." in response.content


def test_playbook_rows_move_and_save(manager, installed) -> None:
    data = {
        "name": "Check-in",
        "cta_type": "lifecycle",
        "is_active": "on",
        "step-count": "2",
        "step-0-kind": "task",
        "step-0-title": "First",
        "step-0-role": "csm",
        "step-0-due_offset_days": "1",
        "step-1-kind": "wait",
        "step-1-title": "Second",
        "step-1-role": "csm",
        "step-1-due_offset_days": "3",
    }
    moved = manager.post("/playbooks/playbooks/new/", data | {"action": "up:1"}).content.decode()
    assert moved.index('value="Second"') < moved.index('value="First"')
    assert not Playbook.objects.filter(name="Check-in").exists()  # moving saves nothing
    bad = manager.post("/playbooks/playbooks/new/", data | {"step-1-due_offset_days": "0", "action": "save"})
    assert bad.status_code == 400 and "A wait lasts at least one day." in bad.content.decode()
    assert not Playbook.objects.filter(name="Check-in").exists()
    assert manager.post("/playbooks/playbooks/new/", data | {"action": "save"}).status_code == 302
    assert list(Playbook.objects.get(name="Check-in").steps.values_list("title", flat=True)) == ["First", "Second"]


def test_template_form_errors_name_the_language_version(manager) -> None:
    response = manager.post(
        "/playbooks/templates/new/",
        {"name": "Hi", "subject": "Hi", "body": "Hello", "subject_vi": "Chào", "body_vi": "{{ nope }}"},
    )
    assert response.status_code == 400 and "Unknown placeholders: nope" in response.content.decode()
    preview = manager.post("/playbooks/templates/preview/", {"subject": "Hi {{ account.name }}", "body": "x"})
    assert 'data-testid="email-preview"' in preview.content.decode()


def test_an_admin_invites_with_a_link_and_deactivates() -> None:
    admin, admin_user = _client(Role.ADMIN, "ada")
    page = admin.post("/settings/users/", {"username": "cara", "email": "cara@x.test", "roles": ["csm"]})
    assert page.status_code == 200 and 'data-testid="set-password-link"' in page.content.decode()
    cara = User.objects.get(username="cara")
    assert not cara.has_usable_password()
    link = page.content.decode().split("http://testserver")[1].split("<")[0]
    form = Client().get(link, follow=True)
    assert b"new_password1" in form.content
    admin.post(f"/settings/users/{cara.pk}/", {"roles": ["csm", "account_manager"], "is_active": ""})
    cara.refresh_from_db()
    assert not cara.is_active
    refused = admin.post(f"/settings/users/{admin_user.pk}/", {"roles": ["admin"], "is_active": ""})
    assert refused.status_code == 400 and b"You cannot deactivate yourself." in refused.content


def test_the_api_installs_and_edits_the_set_up() -> None:
    api = api_client_for(Role.CS_MANAGER, "manager")
    installed = api.post("/playbooks/library/install", {"language": "vi", "with_metrics": False})
    assert installed.status_code == 200 and installed.json()["created"]["playbooks"] == 10
    template = api.post("/playbooks/email-templates", {"name": "Hi", "subject": "Hi {{ account.name }}", "body": "x"})
    assert template.status_code == 201
    assert_problem(
        api.post("/playbooks/playbooks", {"name": "P", "steps": [{"kind": "email", "title": "Mail"}]}),
        400,
        ["steps.0.email_template"],
    )
    created = api.post(
        "/playbooks/playbooks",
        {"name": "P", "steps": [{"kind": "email", "title": "Mail", "email_template": template.json()["id"]}]},
    )
    assert created.status_code == 201 and created.json()["steps"][0]["email_template"] == template.json()["id"]
    assert_problem(api.post("/playbooks/rules", {"name": "R", "trigger": "health_band", "playbook": 999999}), 400)
    listed = api.get("/playbooks/playbooks").json()
    assert listed["count"] == 11 if isinstance(listed, dict) else len(listed) == 11
    preview = api.post("/playbooks/email-templates/preview", {"subject": "{{ account.name }}", "body": ""})
    assert preview.status_code == 200 and "account.name" in preview.json()["placeholders"]
    assert api.post("/users/invite", {"username": "x", "roles": ["csm"]}).status_code == 403
    admin = api_client_for(Role.ADMIN, "root")
    invited = admin.post("/users/invite", {"username": "x", "roles": ["csm"]})
    assert invited.status_code == 201 and "/set-password/" in invited.json()["set_password_url"]
    assert admin.patch(f"/users/{invited.json()['id']}", {"is_active": False}).json()["is_active"] is False
    assert json.loads(api.get("/playbooks/pools").content)


def test_send_email_previews_and_says_when_smtp_is_missing(settings) -> None:
    from tandem.playbooks.models import CtaTask, OutboundEmail
    from tandem.playbooks.providers import Providers
    from tandem.playbooks.services import rules_evaluate
    from tests.factories import AccountFactory, ContactFactory

    settings.TANDEM_SMTP_HOST = ""
    client, csm = _client(Role.CSM, "cara")
    account = AccountFactory(name="Acme", tier="enterprise", csm_owner=csm)
    ContactFactory(account=account, first_name="Ana", email="ana@acme.test", is_primary=True)
    from django.utils import timezone

    with as_fixture():
        library_install(acting_user=None, language="en", with_metrics=False)
        rules_evaluate(
            acting_user=None,
            today=timezone.localdate(),
            rule_ids=[Rule.objects.get(key="ebr-due").pk],
            providers=Providers(),
        )
    task = CtaTask.objects.get(kind="email", cta__account=account)
    page = client.get(f"/playbooks/tasks/{task.pk}/send/?language=vi").content.decode()
    assert 'data-testid="no-smtp"' in page and "Ana" in page and "Acme" in page
    sent = client.post(f"/playbooks/tasks/{task.pk}/send/", {"language": "vi"}, follow=True)
    assert "No SMTP server is configured yet" in sent.content.decode()
    email = OutboundEmail.objects.get(task=task)
    assert (
        email.status == "queued" and "Acme" in email.subject and email.subject != "Executive business review for Acme"
    )


def test_renewal_lead_times_and_churn_reasons(manager) -> None:
    from tandem.opportunities.models import ChurnReason
    from tandem.opportunities.services import renewal_lead_days

    data = {"lead_enterprise": "150", "lead_mid_market": "100", "lead_smb": "800", "new_reason": "Budget cuts"}
    bad = manager.post("/opportunities/settings/", data)
    assert bad.status_code == 400 and "Between 0 and 730 days." in bad.content.decode()
    assert not ChurnReason.objects.filter(name="Budget cuts").exists()  # nothing half-saved
    assert manager.post("/opportunities/settings/", data | {"lead_smb": "60"}).status_code == 302
    assert renewal_lead_days() == {"enterprise": 150, "mid_market": 100, "smb": 60}
    reason = ChurnReason.objects.get(name="Budget cuts")
    assert reason.code == "budget-cuts" and reason.is_active
    viewer, _user = _client(Role.READ_ONLY, "vera")
    page = viewer.get("/opportunities/settings/").content.decode()
    assert "Budget cuts" in page and "<form" not in page.split('<main id="main"')[1]


def test_the_scorecard_shows_no_form_to_read_only_people() -> None:
    from tandem.health.services import scorecards_install_defaults
    from tandem.metrics.services import metrics_install_defaults

    with as_fixture():
        metrics_install_defaults(acting_user=None)
        card = scorecards_install_defaults(acting_user=None)[0]
    viewer, _user = _client(Role.READ_ONLY, "vera")
    page = viewer.get(f"/health/scorecards/{card.pk}/")
    main = page.content.decode().split('<main id="main"')[1].split("</main>")[0]
    assert page.status_code == 200 and "<form" not in main and 'data-testid="scorecard-read-only"' in main
    manager, _m = _client(Role.CS_MANAGER, "max")
    assert 'id="scorecard-form"' in manager.get(f"/health/scorecards/{card.pk}/").content.decode()


def test_a_manager_defines_a_metric_in_the_ui(manager) -> None:
    from tandem.metrics.models import MetricDefinition

    bad = manager.post("/health/metrics/new/", {"key": "seats_ratio", "name": "Ratio", "kind": "ratio"})
    assert bad.status_code == 400 and "Required for this kind of metric." in bad.content.decode()
    ok = manager.post(
        "/health/metrics/new/",
        {"key": "exports_30d", "name": "Exports", "kind": "event_count", "events": "export, report.export",
         "window_days": "30", "higher_is_better": "on", "is_active": "on"},
    )  # fmt: skip
    assert ok.status_code == 302, ok.content.decode()[:3000]
    assert MetricDefinition.objects.get(key="exports_30d").events == ["export", "report.export"]


def test_the_builder_offers_parent_accounts_and_the_condition_matches_their_children(manager, installed) -> None:
    from tandem.playbooks.providers import default_providers
    from tandem.playbooks.rules import EvalContext, candidate_ids
    from tests.factories import AccountFactory

    group = AccountFactory(name="Globex Holding")
    child = AccountFactory(name="Globex Japan", parent=group)
    loner = AccountFactory(name="Initech")
    base = {"trigger": "health_score_below", "param-threshold": "35", "cond-count": "1", "action": "refresh"}
    row = manager.post(
        "/playbooks/rules/builder/", base | {"cond-0-subject": "field:parent", "cond-0-op": "in"}
    ).content.decode()
    # Only accounts that head a group are offered, with "none" for top-level accounts.
    assert "Globex Holding" in row and "top-level" in row and "Initech" not in row.split('name="cond-0-value"')[1]

    form = base | {
        "name": "Group members",
        "playbook": Playbook.objects.get(key="usage-drop").pk,
        "cta_type": "risk",
        "priority": "3",
        "owner_role": "csm",
        "due_in_days": "5",
        "reopen_after_days": "30",
        "is_active": "on",
        "cond-0-subject": "field:parent",
        "cond-0-op": "in",
        "cond-0-value": ["", str(group.pk)],
        "action": "save",
    }
    assert manager.post("/playbooks/rules/new/", form).status_code == 302
    conditions = Rule.objects.get(name="Group members").conditions
    assert conditions == [{"field": "parent", "op": "in", "value": [None, group.pk]}]
    context = EvalContext(today=group.created_at.date(), providers=default_providers())
    # "none" matches top-level accounts (SQL's IN alone never matches NULL), the group its children.
    assert candidate_ids(context, conditions) == {group.pk, child.pk, loner.pk}
    assert candidate_ids(context, [{"field": "parent", "op": "eq", "value": group.pk}]) == {child.pk}
    assert candidate_ids(context, [{"field": "parent", "op": "not_in", "value": [None]}]) == {child.pk}
