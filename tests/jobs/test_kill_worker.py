"""Kill a real worker process with SIGKILL in the middle of jobs, restart it, and count what happened.

Runs against a SQLite file in its own TANDEM_HOME (worker processes cannot see the test database).
A first worker is killed right after the rule evaluation committed its CTAs (its job still
"running"), a second one after the SMTP server accepted an email but before it was marked sent, and
a third finishes the queue. Leases of 2 s let the next worker take over the dead one's job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DATABASE_URL", "PYTEST"))}
    env.update(
        TANDEM_HOME=str(home),
        TANDEM_SECRET_KEY="kill-test-secret-key-0123456789-0123456789-0123456789",
        TANDEM_SMTP_HOST="127.0.0.1",
        TANDEM_SMTP_PORT=str(smtp_port),
        TANDEM_JOB_LEASE_SECONDS="2",
        DJANGO_SETTINGS_MODULE="tandem.settings",
        **extra,
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _start_and_kill_at(point: str, env: dict[str, str], marker: Path) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tandem", "worker", "--no-schedule", "--poll", "0.2"],
        cwd=ROOT,
        env={**env, "TANDEM_JOBS_PAUSE_AT": point, "TANDEM_JOBS_PAUSE_FILE": str(marker)},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None, "the worker exited before reaching the pause point"
            assert time.monotonic() < deadline, f"the worker never reached {point}"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    marker.unlink()


def test_a_killed_worker_opens_no_duplicate_ctas_and_sends_no_duplicate_emails(tmp_path, smtp) -> None:
    env = _env(tmp_path / "home", smtp_port=smtp.port)
    _run(["-m", "tandem", "migrate", "-q"], env)
    _run(["-m", "tests.jobs.kill_scenario", "setup"], env)
    marker = tmp_path / "paused"

    _start_and_kill_at("rules.after_rule", env, marker)
    first = json.loads(_run(["-m", "tests.jobs.kill_scenario", "check"], env))
    assert first["ctas"] == 3 and first["emails"] == ["queued"] * 3
    assert ["playbooks.evaluate_rules", "running", 1] in first["jobs"]
    assert smtp.messages == []

    _start_and_kill_at("email.after_send", env, marker)
    assert len(smtp.messages) == 1  # accepted by the server, then the worker died

    time.sleep(2.2)  # the dead worker's lease on the email job expires
    _run(["-m", "tandem", "worker", "--burst", "--no-schedule"], env)
    final = json.loads(_run(["-m", "tests.jobs.kill_scenario", "check"], env))
    assert final["ctas_per_account"] == [1, 1, 1]
    assert sorted(m["To"] for m in smtp.messages) == ["c0@kill.example", "c1@kill.example", "c2@kill.example"]
    assert final["emails"] == ["sent", "sent", "unknown"]  # the one in flight is flagged, never re-sent
    assert final["interactions"] == 2
    assert all(status == "done" for _name, status, _n in final["jobs"])
    evaluate = [j for j in final["jobs"] if j[0] == "playbooks.evaluate_rules"]
    assert evaluate == [["playbooks.evaluate_rules", "done", 2]]  # claimed again after the first worker died
