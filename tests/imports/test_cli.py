import json

import pytest
from typer.testing import CliRunner

from tandem.accounts.models import Account
from tandem.cli.app import app
from tests.imports.conftest import snapshot

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_missing_required_column_exits_2_and_names_the_column(write_csv):
    path = write_csv("accounts.csv", ["external_id", "title"], [["a1", "x"]])

    result = runner.invoke(app, ["import", "accounts", str(path)])

    assert result.exit_code == 2
    assert "missing required column: name" in result.output
    assert Account.objects.count() == 0


def test_missing_file_and_bad_mapping_are_usage_errors(tmp_path, write_csv):
    result = runner.invoke(app, ["import", "contacts", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "file not found" in result.output

    path = write_csv("accounts.csv", ["id", "name"], [["a1", "Acme"]])
    result = runner.invoke(app, ["import", "accounts", str(path), "--map", "id=identifier", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["usage_error"].startswith("--map id=identifier: 'identifier' is not a field")


def test_unreadable_parquet_is_a_usage_error(tmp_path):
    path = tmp_path / "accounts.parquet"
    path.write_bytes(b"not parquet at all")

    result = runner.invoke(app, ["import", "accounts", str(path)])

    assert result.exit_code == 2
    assert "is not a readable Parquet file" in result.output


def test_invalid_rows_exit_1_with_a_json_report(write_csv):
    path = write_csv("accounts.csv", ["external_id", "name", "tier"], [["a1", "Acme", "gold"], ["a2", "Beta", ""]])
    before = snapshot()

    result = runner.invoke(app, ["import", "accounts", str(path), "--json"])

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["written"], report["invalid_rows"]) == (False, False, 1)
    assert report["errors"] == [
        {"row": 2, "column": "tier", "value": "gold", "problem": "'gold' is not one of: enterprise, mid_market, smb."}
    ]
    assert snapshot() == before


def test_map_option_skip_invalid_and_table_output(write_csv):
    path = write_csv("crm.tsv", ["Id", "Company", "Tier"], [["a1", "Acme", "smb"], ["a2", "Beta", "gold"]], "\t")

    result = runner.invoke(
        app, ["import", "accounts", str(path), "--map", "Id=external_id", "--map", "Company=name", "--skip-invalid"]
    )

    assert result.exit_code == 1  # some rows were invalid, even though the valid ones were written
    assert "'gold' is not one of" in result.output
    assert "Imported accounts: 1 created, 0 updated, 0 unchanged, 1 skipped (2 rows)." in result.output
    assert list(Account.objects.values_list("external_id", "name", "tier")) == [("a1", "Acme", "smb")]


def test_dry_run_exits_0_and_writes_nothing(write_csv):
    path = write_csv("accounts.csv", ["external_id", "name"], [["a1", "Acme"]])

    result = runner.invoke(app, ["import", "accounts", str(path), "--dry-run"])

    assert result.exit_code == 0
    assert "would be 1 created" in result.output
    assert Account.objects.count() == 0


def test_an_unknown_column_is_offered_as_a_custom_field_and_create_traits_imports_it(write_csv):
    from tandem.traits.models import TraitDefinition

    path = write_csv("accounts.csv", ["external_id", "name", "Seats bought"], [["a1", "Acme", "40"], ["a2", "B", "12"]])
    result = runner.invoke(app, ["import", "accounts", str(path)])
    assert result.exit_code == 0, result.output
    assert "import it as a new custom field 'seats_bought' (Number) with --create-traits" in " ".join(
        result.output.split()
    )
    assert not TraitDefinition.objects.exists()

    result = runner.invoke(app, ["import", "accounts", str(path), "--create-traits"])
    assert result.exit_code == 0, result.output
    assert "Created the custom field 'seats_bought' (Number)." in result.output
    assert dict(Account.objects.values_list("external_id", "traits__seats_bought")) == {"a1": 40, "a2": 12}
    assert TraitDefinition.objects.get().label == "Seats bought"
