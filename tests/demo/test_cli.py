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
    workers: list[bool] = []
    monkeypatch.setattr("tandem.web.server.run_server", lambda **kwargs: served.update(kwargs))
    monkeypatch.setattr("tandem.cli.demo._start_worker", lambda: workers.append(True))  # a worker serves jobs

    result = CliRunner().invoke(app, [*ARGS, "--port", "8102"])

    assert result.exit_code == 0, result.output
    assert Account.objects.count() == 10
    assert event_store.count() > 0
    assert (home / "demo.json").exists()
    assert served["host"] == "127.0.0.1" and served["port"] == 8102
    assert "admin" in served["banner"] and "tandem-demo" in served["banner"]
    assert workers == [True]


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


def test_output_written_to_a_file_appears_as_each_phase_finishes(tmp_path: Path) -> None:
    """Redirected to a file (no terminal), each phase is a line flushed when it starts and ends."""
    import os
    import subprocess
    import sys
    import time

    log = tmp_path / "demo.log"
    env = {**os.environ, "TANDEM_HOME": str(tmp_path / "home"), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tandem", "demo", "--no-serve", *ARGS[1:]],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 120
            while "Writing accounts and contacts" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.05)
            seen_while_running = proc.poll() is None and "Writing accounts and contacts" in log.read_text()
            assert proc.wait(180) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert seen_while_running, "the first phases were only written when the build ended"
    text = log.read_text()
    assert "━" not in text  # no progress-bar frames in a file
    assert "Computing metric history" in text and "Built the demo" in text
