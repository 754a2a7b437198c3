"""Real `tandem` processes record their path: a CLI command as "cli", a job run by a worker as "job".

Processes cannot see the test database, so each test runs them on a home (and, on PostgreSQL, a
database) of its own and reads the entries back with ``python -m tests.audit.scenario entries``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from tests.processes import process_env, python, tandem

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _ok(done) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _entries(env: dict[str, str]) -> list[list]:
    return json.loads(_ok(python(env, "-m", "tests.audit.scenario", "entries")))


def test_a_cli_command_records_its_writes_as_via_cli(tmp_path: Path) -> None:
    with process_env(tmp_path / "home") as env:
        _ok(tandem(env, "migrate", "-q"))
        _ok(tandem(env, "createuser", "kim", "--role", "csm", "--password", "a-long-passphrase"))
        _ok(tandem(env, "sources", "create", "web"))

        entries = _entries(env)

    assert [(via, model, action) for via, model, action, _changes, _actor in entries] == [
        ("cli", "user", 0),  # created
        ("cli", "user", 1),  # its role: the groups many-to-many
        ("cli", "source", 0),
    ]
    assert entries[0][3]["username"] == [None, "kim"]
    assert entries[1][3]["groups"]["objects"] == ["CSM"]
    assert entries[2][3]["name"] == [None, "web"]
    assert {actor for *_rest, actor in entries} == {None}  # no --as: an automated write


def test_a_job_run_by_a_worker_records_its_writes_as_via_job(tmp_path: Path) -> None:
    with process_env(tmp_path / "home") as env:
        _ok(tandem(env, "migrate", "-q"))
        _ok(python(env, "-m", "tests.audit.scenario", "setup"))
        assert "jobs done: 1" in _ok(tandem(env, "worker", "--burst", "--no-schedule"))

        entries = _entries(env)

    assert [(via, model, action) for via, model, action, _changes, _actor in entries] == [
        ("fixture", "account", 0),
        ("fixture", "calltoaction", 0),
        ("job", "calltoaction", 1),  # woken by playbooks.advance_ctas
    ]
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert entries[-1][3] == {"status": ["snoozed", "open"], "snoozed_until": [yesterday, None]}
    assert entries[-1][4] is None
