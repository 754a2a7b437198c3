"""The audit history of writes: who, when, through which path, and each field before and after."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from tandem.accounts.models import Account, Contact
from tandem.accounts.services import (
    account_create,
    account_delete,
    account_update,
    contact_create,
    contact_update,
)
from tandem.audit.context import audit_context, write_service
from tandem.audit.models import AuditEntry, AuditVia
from tandem.audit.selectors import audit_history_for_account, audit_history_for_object
from tandem.core.errors import DomainError
from tandem.imports.services import import_file
from tandem.playbooks.models import CallToAction, CtaTask, StepKind
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import rules_evaluate
from tandem.success.models import SuccessMilestone
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.api.helpers import ApiClient, api_fixture  # noqa: F401
from tests.factories import AccountFactory, ContactFactory, UserFactory, as_fixture
from tests.playbooks.helpers import playbook_with, rule_for

pytestmark = pytest.mark.django_db
CREATE, UPDATE, DELETE = AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE, AuditEntry.Action.DELETE


def entries_of(obj) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk).order_by("pk")
    )


# --- a service write ------------------------------------------------------------------------------


def test_a_service_write_records_who_when_what_changed_and_through_which_path() -> None:
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    before = timezone.now()

    with audit_context(via=AuditVia.CLI):
        account = account_create(acting_user=alice, name="Acme", country="de", currency="eur", tier="smb")
        account_update(acting_user=bob, account=account, data={"name": "Acme GmbH", "tier": "enterprise"})
        account_update(acting_user=bob, account=account, data={"name": "Acme GmbH"})  # no change, no entry

    created, updated = entries_of(account)
    assert (created.action, created.actor, created.actor_email, created.via) == (CREATE, alice, alice.email, "cli")
    assert (created.changes["name"], created.changes["tier"]) == ([None, "Acme"], [None, "smb"])
    assert (created.changes["country"], created.changes["currency"]) == ([None, "DE"], [None, "EUR"])
    assert (updated.action, updated.actor, updated.via, updated.account_id) == (UPDATE, bob, "cli", account.pk)
    assert updated.changes == {"name": ["Acme", "Acme GmbH"], "tier": ["smb", "enterprise"]}
    assert before <= created.timestamp <= updated.timestamp <= timezone.now()
    assert updated.object_repr == "Acme GmbH"


def test_an_automated_write_keeps_the_actor_of_the_context_and_a_refused_one_records_nothing() -> None:
    carol = UserFactory(username="carol")
    with audit_context(via=AuditVia.SYSTEM, actor=carol):
        account = account_create(acting_user=None, name="Initech")
        with pytest.raises(DomainError):
            account_update(acting_user=None, account=account, data={"currency": "dollars"})

    (entry,) = entries_of(account)  # the refused update rolled back with its entry
    assert (entry.actor, entry.via) == (carol, "system")
    assert Account.objects.get().currency == "USD"


def test_a_write_service_must_be_told_who_acts() -> None:
    @write_service
    def rename(*, acting_user, account):
        account.save()

    with pytest.raises(TypeError, match="rename\\(\\) must be called with acting_user="):
        rename(account=AccountFactory())


def test_a_new_primary_contact_records_the_demotion_of_the_previous_one() -> None:
    account = AccountFactory()
    first = ContactFactory(account=account, is_primary=True)
    csm = UserFactory()

    with audit_context(via=AuditVia.CLI):
        second = contact_create(acting_user=csm, account=account, first_name="Ada", roles=["champion"])
        contact_update(acting_user=csm, contact=second, data={"is_primary": True})

    (demoted,) = [e for e in entries_of(first) if e.action == UPDATE]
    assert (demoted.changes, demoted.actor, demoted.account_id) == ({"is_primary": [True, False]}, csm, account.pk)
    role = second.roles.get()
    (role_entry,) = entries_of(role)
    assert (role_entry.action, role_entry.changes, role_entry.account_id) == (
        CREATE,
        {"contact": [None, second.pk], "role": [None, "champion"]},
        account.pk,
    )


# --- the UI and the API -----------------------------------------------------------------------------


def test_a_ui_write_records_the_signed_in_user_and_via_ui(client) -> None:
    with as_fixture():
        csm = user_create(acting_user=None, username="casey", password=None, roles=[Role.CSM])
        milestone = SuccessMilestone.objects.create(
            account=AccountFactory(csm_owner=csm), title="Go live", due_date=dt.date(2026, 1, 1)
        )  # her own book: the default rule lets a CSM change only that
    client.force_login(csm)

    response = client.post(f"/success/milestones/{milestone.pk}/complete/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    (entry,) = [e for e in entries_of(milestone) if e.action == UPDATE]
    assert (entry.actor, entry.via, entry.remote_addr) == (csm, "ui", "127.0.0.1")
    assert sorted(entry.changes) == ["completed_at", "completed_by"] and entry.changes["completed_at"][0] is None


def test_an_api_write_records_the_token_user_and_via_api(api: ApiClient) -> None:
    response = api.post("/accounts/", {"name": "Globex", "external_id": "globex"})

    assert response.status_code == 201
    (entry,) = entries_of(Account.objects.get(pk=response.json()["id"]))
    assert (entry.action, entry.actor, entry.via, entry.changes["external_id"]) == (
        CREATE,
        api.user,
        "api",
        [None, "globex"],
    )


# --- deletes ------------------------------------------------------------------------------------------


def test_a_deleted_accounts_history_and_its_contacts_stay() -> None:
    manager = UserFactory(username="manager")
    account = AccountFactory(name="Umbrella")
    contacts = ContactFactory.create_batch(2, account=account)
    account_id, contact_ids = account.pk, [c.pk for c in contacts]

    with audit_context(via=AuditVia.ADMIN):
        account_delete(acting_user=manager, account=account)

    assert not Account.objects.exists() and not Contact.objects.exists()
    history = list(audit_history_for_account(account_id=account_id).order_by("pk"))
    rows = [(e.content_type.model, e.object_id, e.action, e.via) for e in history]
    assert rows[:3] == [
        ("account", account_id, CREATE, "fixture"),
        ("contact", contact_ids[0], CREATE, "fixture"),
        ("contact", contact_ids[1], CREATE, "fixture"),
    ]
    assert sorted(rows[3:]) == [  # the collector's order of deletes is its own
        ("account", account_id, DELETE, "admin"),
        ("contact", contact_ids[0], DELETE, "admin"),
        ("contact", contact_ids[1], DELETE, "admin"),
    ]
    assert {e.actor for e in history if e.action == DELETE} == {manager}
    assert audit_history_for_object(obj=Account(pk=account_id)).first().changes["name"] == ["Umbrella", None]


# --- bulk paths -----------------------------------------------------------------------------------------


def test_rules_opening_ctas_record_one_entry_per_cta_via_rule_listing_its_tasks() -> None:
    today = dt.date(2025, 6, 30)
    csm = UserFactory(username="owner")
    fresh = AccountFactory.create_batch(3, start_date=today - dt.timedelta(days=2), csm_owner=csm)
    AccountFactory(start_date=today - dt.timedelta(days=400))
    playbook = playbook_with(
        "welcome", [{"kind": StepKind.TASK, "title": "Kick-off"}, {"kind": StepKind.TASK, "title": "Train admins"}]
    )
    rule = rule_for("new_account", {"days": 14}, playbook=playbook, name="New account")

    rules_evaluate(acting_user=None, today=today, providers=Providers())
    rules_evaluate(acting_user=None, today=today, providers=Providers())  # opens nothing: no entry either

    ctas = list(CallToAction.objects.order_by("account_id"))
    cta_entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(CallToAction))
    assert sorted(cta_entries.values_list("object_id", "account_id", "action", "via", "actor")) == [
        (c.pk, a.pk, CREATE, "rule", None) for c, a in zip(ctas, fresh, strict=True)
    ]
    entry = cta_entries.get(object_id=ctas[0].pk)
    assert entry.object_repr == f"New account: {fresh[0].name}"
    assert entry.changes == {
        "rule": [None, rule.pk],
        "type": [None, "risk"],
        "priority": [None, 3],
        "owner": [None, csm.pk],
        "status": [None, "open"],
        "opened_on": [None, "2025-06-30"],
        "due_date": [None, "2025-07-07"],
        "tasks": [None, ["Kick-off", "Train admins"]],  # opened with the CTA, listed in its entry
    }
    assert CtaTask.objects.count() == 6
    assert not AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(CtaTask)).exists()


def test_tasks_reached_after_a_wait_and_bulk_task_updates_get_entries_of_their_own() -> None:
    from tandem.playbooks.services import cta_close, ctas_advance

    today = dt.date(2025, 6, 30)
    csm = UserFactory(username="owner")
    account = AccountFactory(start_date=today - dt.timedelta(days=2), csm_owner=csm)
    playbook = playbook_with(
        "welcome",
        [
            {"kind": StepKind.WAIT, "title": "Wait a week", "due_offset_days": 7},
            {"kind": StepKind.TASK, "title": "Check in"},
        ],
    )
    rule_for("new_account", {"days": 14}, playbook=playbook)
    rules_evaluate(acting_user=None, today=today, providers=Providers())
    wait = CtaTask.objects.get()

    with audit_context(via=AuditVia.JOB):
        ctas_advance(acting_user=None, today=today + dt.timedelta(days=7))
    check_in = CtaTask.objects.get(title="Check in")
    with audit_context(via=AuditVia.UI):
        cta_close(acting_user=csm, cta=check_in.cta, outcome="success")

    assert [(e.action, e.via, e.actor, e.account_id) for e in entries_of(wait)] == [(UPDATE, "job", None, account.pk)]
    assert entries_of(wait)[0].changes["status"] == ["pending", "done"]
    assert [(e.action, e.via, e.actor) for e in entries_of(check_in)] == [
        (CREATE, "job", None),
        (UPDATE, "ui", csm),
    ]
    assert entries_of(check_in)[0].changes["cta"] == [None, check_in.cta_id]
    assert entries_of(check_in)[1].changes == {"status": ["pending", "skipped"]}


def test_an_import_records_one_entry_per_row_written_with_the_real_before_values(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,tier\na1,Alpha,smb\na2,Bravo,smb\na3,Charlie,enterprise\n")
    importer = UserFactory(username="importer")

    first = import_file(acting_user=importer, entity="accounts", path=path)
    path.write_text("external_id,name,tier\na1,Alpha,smb\na2,Bravo Ltd,mid_market\na3,Charlie,enterprise\n")
    second = import_file(acting_user=None, entity="accounts", path=path)

    assert (first.created, second.updated, second.unchanged) == (3, 1, 2)
    by_key = {a.external_id: a for a in Account.objects.all()}
    entries = list(AuditEntry.objects.filter(content_type__model="account").order_by("pk"))
    assert [(e.object_id, e.action, e.via, e.actor) for e in entries] == [
        (by_key["a1"].pk, CREATE, "import", importer),
        (by_key["a2"].pk, CREATE, "import", importer),
        (by_key["a3"].pk, CREATE, "import", importer),
        (by_key["a2"].pk, UPDATE, "import", None),
    ]
    assert entries[0].changes["name"] == [None, "Alpha"] and entries[0].account_id == by_key["a1"].pk
    assert entries[-1].changes == {"name": ["Bravo", "Bravo Ltd"], "tier": ["smb", "mid_market"]}


def test_a_contract_import_records_terms_and_lines(tmp_path: Path) -> None:
    AccountFactory(external_id="acme")
    from tests.factories import ProductFactory

    ProductFactory(code="seat")
    path = tmp_path / "subscriptions.csv"
    path.write_text(
        "account_external_id,external_id,start_date,end_date,product_code,quantity,unit_price\n"
        "acme,t1,2025-01-01,2025-12-31,seat,10,1200\n"
    )

    report = import_file(acting_user=None, entity="subscriptions", path=path)

    assert report.written
    kinds = list(AuditEntry.objects.filter(via="import").order_by("pk").values_list("content_type__model", "action"))
    assert kinds == [("subscription", CREATE), ("subscriptionitem", CREATE)]
    line = AuditEntry.objects.get(content_type__model="subscriptionitem")
    assert line.account_id == Account.objects.get().pk
    assert (line.changes["quantity"], line.changes["unit_price"]) == ([None, "10"], [None, "1200"])  # as imported
    term = AuditEntry.objects.get(content_type__model="subscription").changes
    assert term["start_date"] == [None, "2025-01-01"] and "mrr" not in term  # totals are derived from the lines
