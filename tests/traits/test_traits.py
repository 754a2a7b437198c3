"""Custom fields: typed values checked on every write path, imports that fill them and offer new
ones, and a segment over one that drives a rule."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from tandem.accounts.models import Account
from tandem.accounts.services import account_create, account_update
from tandem.core.errors import DomainError
from tandem.imports.services import import_file
from tandem.playbooks.models import CallToAction
from tandem.segments.models import SegmentMembership
from tandem.segments.services import segment_save, segments_refresh
from tandem.traits.models import TraitDefinition
from tandem.traits.services import trait_define, trait_delete
from tandem.traits.values import infer_kind
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]
TODAY = dt.date(2026, 6, 1)
SINCE = (dt.date.today() - dt.timedelta(days=3)).isoformat()  # new accounts: the rule's trigger fires


def _csv(tmp_path: Path, rows: list[list[str]], name: str = "crm.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_values_are_typed_and_a_bad_one_names_the_field() -> None:
    trait_define(acting_user=None, entity="account", key="seats_bought", kind="number")
    trait_define(acting_user=None, entity="account", key="channel", kind="choice", choices=["Partner", "Direct"])
    trait_define(acting_user=None, entity="account", key="renewal_signed", kind="date")
    trait_define(acting_user=None, entity="account", key="strategic", kind="boolean")
    account = account_create(
        acting_user=None,
        name="Acme",
        traits={"seats_bought": "1,200", "channel": "partner", "renewal_signed": "2026-03-01", "strategic": "yes"},
    )
    account.refresh_from_db()
    assert account.traits == {
        "seats_bought": 1200,
        "channel": "Partner",
        "renewal_signed": "2026-03-01",
        "strategic": True,
    }
    with pytest.raises(DomainError) as error:
        account_update(acting_user=None, account=account, data={"traits": {"seats_bought": "many", "colour": "red"}})
    assert {e.field for e in error.value.errors} == {"traits.seats_bought", "traits.colour"}
    account.refresh_from_db()
    assert account.traits["seats_bought"] == 1200  # nothing half-written
    account_update(acting_user=None, account=account, data={"traits": {"channel": None}})
    account.refresh_from_db()
    assert "channel" not in account.traits and account.traits["strategic"] is True


def test_a_key_may_not_shadow_a_built_in_field_or_repeat() -> None:
    for key in ("name", "tier", "csm_owner", "external_id"):
        with pytest.raises(DomainError) as error:
            trait_define(acting_user=None, entity="account", key=key)
        assert error.value.errors[0].field == "key"
    trait_define(acting_user=None, entity="account", key="region")
    with pytest.raises(DomainError):
        trait_define(acting_user=None, entity="account", key="region")
    with pytest.raises(DomainError) as error:
        trait_define(acting_user=None, entity="account", key="Bad Key!")
    assert error.value.errors[0].field == "key"
    with pytest.raises(DomainError) as error:
        trait_define(acting_user=None, entity="account", key="plan", kind="choice", choices=[])
    assert error.value.errors[0].field == "choices"


def test_kinds_are_guessed_from_a_columns_values() -> None:
    assert infer_kind(["12", "3.5", ""]) == ("number", [])
    assert infer_kind(["2026-01-01", "2025-12-31"]) == ("date", [])
    assert infer_kind(["yes", "no", "Yes"]) == ("boolean", [])
    assert infer_kind(["partner", "direct", "partner", "Marketplace"]) == (
        "choice",
        ["direct", "Marketplace", "partner"],
    )
    assert infer_kind(["a", "b", "c"]) == ("text", [])


def test_an_import_offers_an_unknown_column_creates_it_on_request_and_a_segment_over_it_drives_a_rule(
    tmp_path: Path,
) -> None:
    from tandem.playbooks.services import rules_evaluate

    path = _csv(
        tmp_path,
        [
            ["external_id", "name", "start_date", "channel"],
            ["a1", "Acme", SINCE, "partner"],
            ["a2", "Globex", SINCE, "direct"],
            ["a3", "Initech", SINCE, "partner"],
        ],
    )
    report = import_file(acting_user=None, entity="accounts", path=path)
    assert report.written and report.created == 3
    assert report.trait_offers == [
        "column 'channel' is not a known field: import it as a new custom field 'channel' (Choice from a list: "
        "direct, partner) with --create-traits, or define it in Settings → Custom fields."
    ]
    assert not any("was ignored" in w for w in report.warnings)
    assert not TraitDefinition.objects.exists() and Account.objects.get(external_id="a1").traits == {}

    dry = import_file(acting_user=None, entity="accounts", path=path, create_traits=True, dry_run=True)
    assert "Would create the custom field 'channel'." in dry.notes and not TraitDefinition.objects.exists()

    report = import_file(acting_user=None, entity="accounts", path=path, create_traits=True)
    assert report.written and report.errors == []
    channel = TraitDefinition.objects.get(key="channel")
    assert (channel.entity, channel.kind, channel.choices, channel.label) == (
        "account",
        "choice",
        ["direct", "partner"],
        "Channel",
    )
    assert dict(Account.objects.values_list("external_id", "traits__channel")) == {
        "a1": "partner",
        "a2": "direct",
        "a3": "partner",
    }
    # Idempotent: the same file again changes nothing.
    again = import_file(acting_user=None, entity="accounts", path=path)
    assert again.unchanged == 3 and "Custom fields set on 0 record(s)." in again.notes
    # A value outside the choices names its row and column, and nothing is written.
    bad = _csv(tmp_path, [["external_id", "name", "channel"], ["a2", "Globex", "reseller"]], "bad.csv")
    refused = import_file(acting_user=None, entity="accounts", path=bad)
    assert [(e.row, e.column, e.value) for e in refused.errors] == [(2, "channel", "reseller")]
    assert Account.objects.get(external_id="a2").traits == {"channel": "direct"}

    # A segment over the new field, and a rule that reads the segment.
    segment = segment_save(
        acting_user=None,
        name="Partner-sourced",
        conditions=[{"trait": "channel", "op": "eq", "value": "partner"}],
        service_model="low_touch",
        today=TODAY,
    )
    assert segment.members == 2
    members = set(
        SegmentMembership.objects.filter(segment=segment, left_on__isnull=True).values_list(
            "account__external_id", flat=True
        )
    )
    assert members == {"a1", "a3"}
    from tandem.playbooks.models import Playbook, Rule

    with as_fixture():
        playbook = Playbook.objects.create(name="Partner check-in")
        rule = Rule.objects.create(
            name="Partner accounts get a check-in",
            trigger="new_account",
            params={"days": 14},
            conditions=[{"segment": "any", "op": "in", "value": [segment.pk]}],
            playbook=playbook,
        )
    from django.utils import timezone

    rules_evaluate(acting_user=None, today=timezone.localdate())
    opened = set(CallToAction.objects.filter(rule=rule).values_list("account__external_id", flat=True))
    assert opened == {"a1", "a3"}

    # The channel changes; the daily refresh moves the account out and keeps its stay.
    acme = Account.objects.get(external_id="a1")
    account_update(acting_user=None, account=acme, data={"traits": {"channel": "direct"}})
    result = segments_refresh(acting_user=None, today=TODAY + dt.timedelta(days=1))
    assert (result.joined, result.left) == (0, 1)
    stay = SegmentMembership.objects.get(segment=segment, account=acme)
    assert (stay.joined_on, stay.left_on) == (TODAY, TODAY + dt.timedelta(days=1))
    # The field is in use: it cannot be deleted under the segment and the rule.
    with pytest.raises(DomainError):
        trait_delete(acting_user=None, trait=channel)


def test_deleting_a_field_removes_its_values() -> None:
    region = trait_define(acting_user=None, entity="contact", key="region")
    account = AccountFactory()
    from tandem.accounts.services import contact_create

    contact = contact_create(acting_user=None, account=account, email="a@example.com", traits={"region": "EMEA"})
    assert trait_delete(acting_user=None, trait=region) == 1
    contact.refresh_from_db()
    assert contact.traits == {}


def test_the_api_reads_and_writes_custom_fields() -> None:
    trait_define(acting_user=None, entity="account", key="seats_bought", kind="number")
    with as_fixture():
        user = user_create(acting_user=None, username="morgan", password=None, roles=[Role.CS_MANAGER])
    client = Client()
    client.force_login(user)
    response = client.post(
        "/api/v1/accounts/", {"name": "Acme", "traits": {"seats_bought": 40}}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    account_id = response.json()["id"]
    assert response.json()["traits"] == {"seats_bought": 40}
    bad = client.patch(
        f"/api/v1/accounts/{account_id}", {"traits": {"seats_bought": "x", "nope": 1}}, content_type="application/json"
    )
    assert bad.status_code in (400, 422)
    assert "traits.seats_bought" in bad.content.decode() and "traits.nope" in bad.content.decode()
    ok = client.patch(
        f"/api/v1/accounts/{account_id}", {"traits": {"seats_bought": 45}}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["traits"] == {"seats_bought": 45}
