"""`tandem demo` on the command line (the serving step is replaced by a recorder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tandem.accounts.models import Account
from tandem.cli.app import app
from tandem.daily.models import DailyRun, DailyStep
from tandem.health.models import HealthScoreCurrent
from tandem.metrics.models import MetricValue
from tandem.playbooks.models import Rule
from tandem.success.models import SuccessMilestone
from tandem.surveys.models import NpsResponse
from tandem.usage.eventstore import EventStore
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
ARGS = ["demo", "--accounts", "10", "--today", "2025-06-15", "--seed", "3"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_hashing) -> Path:
    monkeypatch.setenv("TANDEM_HOME", str(tmp_path))
    return tmp_path


def test_builds_prints_the_login_and_serves(home: Path, event_store: EventStore, monkeypatch: pytest.MonkeyPatch):
    served: dict = {}
    monkeypatch.setattr("tandem.web.server.run_server", lambda **kwargs: served.update(kwargs))

    result = CliRunner().invoke(app, [*ARGS, "--port", "8102"])

    assert result.exit_code == 0, result.output
    assert Account.objects.count() == 10
    assert event_store.count() > 0
    assert (home / "demo.json").exists()
    assert served["host"] == "127.0.0.1" and served["port"] == 8102
    assert "admin" in served["banner"] and "tandem-demo" in served["banner"]


def test_no_serve_prints_the_login_and_returns(home: Path, event_store: EventStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("tandem.web.server.run_server", lambda **kwargs: pytest.fail("served"))

    result = CliRunner().invoke(app, [*ARGS, "--no-serve"])

    assert result.exit_code == 0, result.output
    assert "Log in as admin with password tandem-demo" in " ".join(result.output.split())
    # Every domain's post-build step ran: the demo opens with metrics, health and rules in place.
    assert MetricValue.objects.exists()
    assert HealthScoreCurrent.objects.exists()
    assert Rule.objects.exists()
    assert NpsResponse.objects.exists() or SuccessMilestone.objects.exists()
    # Today came from the daily pipeline, every step of it, for the demo's today.
    run = DailyRun.objects.get()
    assert str(run.day) == "2025-06-15"
    assert list(run.steps.values_list("step", flat=True)) == list(DailyStep)
    assert set(MetricValue.objects.values_list("as_of", flat=True)) == {run.day}


def test_refuses_foreign_accounts_with_exit_code_3(home: Path, event_store: EventStore):
    AccountFactory()

    result = CliRunner().invoke(app, [*ARGS, "--no-serve"])

    assert result.exit_code == 3
    assert "--force" in " ".join(result.output.split())
    assert Account.objects.count() == 1


def test_rejects_a_malformed_date(home: Path):
    result = CliRunner().invoke(app, ["demo", "--today", "15/06/2025", "--no-serve"])

    assert result.exit_code == 2
    assert "--today" in result.output
