"""CSV exports of the lists: the page's rows (scope, filters, sort) and nothing the page would hide."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client

from tandem.access.masking import HIDDEN
from tandem.audit.context import audit_context
from tandem.core.export import cell, csv_filename
from tandem.users.roles import Role
from tests.access.world import World
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _csv(world: World, role: Role, path: str, **params: str) -> list[dict[str, str]]:
    client = Client()
    client.force_login(world.users[role])
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # so a spreadsheet reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_a_value_a_spreadsheet_would_run_is_neutralised() -> None:
    assert cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert cell("+1 555") == "'+1 555" and cell("@SUM(A1)") == "'@SUM(A1)" and cell("-2+3") == "'-2+3"
    assert cell(Decimal("-120.50")) == Decimal("-120.50")  # a number stays a number
    assert cell(HIDDEN) == "" and cell(None) == ""
    assert cell(dt.date(2026, 3, 1)) == "2026-03-01" and cell(True) == "true"
    assert csv_filename("Comptes à jour", today=dt.date(2026, 12, 6)) == "comptes-à-jour-2026-12-06.csv"


@pytest.mark.parametrize("role", [Role.CSM, Role.ACCOUNT_MANAGER, Role.CS_MANAGER, Role.READ_ONLY])
def test_the_accounts_export_is_the_list_the_reader_sees(world: World, role: Role) -> None:
    rows = _csv(world, role, "/accounts/export.csv")
    names = {r["Name"] for r in rows}
    if role in (Role.CSM, Role.ACCOUNT_MANAGER):
        assert names == {"Inside"}  # their own book only, as on the page
    else:
        assert names == {"Inside", "Outside"}
    sees_values = role in (Role.ACCOUNT_MANAGER, Role.CS_MANAGER)
    assert ("ARR" in rows[0]) == sees_values  # the column goes, as on the page
    if sees_values:
        assert rows[0]["ARR"] == "12000.00" and rows[0]["Currency"] == "USD"


def test_the_accounts_export_keeps_the_filters_and_the_sort_and_has_every_page(world: World) -> None:
    with audit_context(via="fixture"):
        for i in range(60):  # more than one page of the list
            AccountFactory(name=f"Zeta {i:02}", csm_owner=world.users[Role.CSM], arr=Decimal(i))
        AccountFactory(name="=cmd|' /C calc'!A0", csm_owner=world.users[Role.CSM])
    rows = _csv(world, Role.CS_MANAGER, "/accounts/export.csv", q="Zeta", sort="-arr")
    assert len(rows) == 60
    assert [r["Name"] for r in rows[:2]] == ["Zeta 59", "Zeta 58"]
    everything = _csv(world, Role.CS_MANAGER, "/accounts/export.csv")
    assert "'=cmd|' /C calc'!A0" in {r["Name"] for r in everything}


def test_an_export_with_a_bad_filter_names_it(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.CS_MANAGER])
    response = client.get("/accounts/export.csv", {"tier": "platinum"})
    assert response.status_code == 400
    assert response.content.decode().startswith("tier: ")
    response = client.get("/opportunities/renewals/export.csv", {"horizon": "-5"})
    assert response.status_code == 400 and b"horizon" in response.content


def test_the_contacts_export_follows_the_search_and_the_scope(world: World) -> None:
    with audit_context(via="fixture"):
        ContactFactory(account=world.inside.account, first_name="Mai", last_name="Tran", title="VP Ops")
        ContactFactory(account=world.outside.account, first_name="Mai", last_name="Other")
        ContactFactory(account=world.inside.account, first_name="Mai", last_name="Gone", still_at_company=False)
    rows = _csv(world, Role.CSM, "/accounts/contacts/export.csv", q="Mai")
    assert [(r["First name"], r["Last name"], r["Account"]) for r in rows] == [("Mai", "Tran", "Inside")]
    with_left = _csv(world, Role.CSM, "/accounts/contacts/export.csv", q="Mai", left="on")
    assert {r["Last name"] for r in with_left} == {"Tran", "Gone"}
    assert {r["Last name"] for r in _csv(world, Role.ADMIN, "/accounts/contacts/export.csv", q="Mai")} == {
        "Tran",
        "Other",
    }


@pytest.mark.parametrize("role", [Role.CSM, Role.ACCOUNT_MANAGER, Role.ADMIN])
def test_the_renewals_and_pipeline_exports_are_scoped_and_masked(world: World, role: Role) -> None:
    renewals = _csv(world, role, "/opportunities/renewals/export.csv")
    pipeline = _csv(world, role, "/opportunities/pipeline/export.csv")
    expected = {"Inside"} if role in (Role.CSM, Role.ACCOUNT_MANAGER) else {"Inside", "Outside"}
    assert {r["Account"] for r in renewals} == expected
    assert {r["Account"] for r in pipeline} == expected
    if role == Role.CSM:  # contract values are not theirs to see: the columns go, no "•••" in a cell
        assert "Current ARR" not in renewals[0] and "Amount" not in pipeline[0]
    else:
        inside = next(r for r in pipeline if r["Account"] == "Inside")
        assert inside["Amount"] == "5000.00" and inside["Name"] == "Inside upsell"
        assert next(r for r in renewals if r["Account"] == "Inside")["Current ARR"] == "12000.00"
    assert not any("•••" in value for row in renewals + pipeline for value in row.values())


def test_each_list_links_to_its_export_with_its_filters(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.CS_MANAGER])
    page = client.get("/accounts/", {"q": "Ins"}).content.decode()
    assert 'href="/accounts/export.csv?q=Ins"' in page
    for path in ("/accounts/contacts/", "/opportunities/renewals/", "/opportunities/pipeline/"):
        assert 'data-testid="export-csv"' in client.get(path).content.decode(), path
