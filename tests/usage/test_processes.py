"""Every process at once on one TANDEM_HOME: `tandem serve`, two `tandem worker`, and CLI commands.

The server accepts tracking calls while an events import, a metrics computation, an account
report and a compaction run in other processes, and two workers poll the job queue. Nothing may
fail on a lock, and every accepted event is stored exactly once. On PostgreSQL the processes
share a database of their own on the suite's server (tests.processes).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.processes import free_port, process_env, python, start, tandem, wait_http

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCHES = 40
PER_BATCH = 100
IMPORTED = 200_000


def _post(port: int, key: str, batch: list[dict]) -> int:
    body = json.dumps({"batch": batch}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/batch",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def _events_file(path: Path) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    n = IMPORTED
    pq.write_table(
        pa.table(
            {
                "account_external_id": [f"acct-{i % 20}" for i in range(n)],
                "timestamp": pa.array(
                    [start + dt.timedelta(seconds=20 * i) for i in range(n)], pa.timestamp("us", "UTC")
                ),
                "event": [("Report Run", "Dashboard Viewed", "Export")[i % 3] for i in range(n)],
                "user_id": [f"u{i % 97}" for i in range(n)],
            }
        ),
        path,
    )


def _check(env: dict[str, str]) -> dict[str, int]:
    done = python(env, "-m", "tests.usage.store_scenario", "check")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_serve_workers_and_cli_share_the_event_store(tmp_path: Path) -> None:
    with process_env(tmp_path / "home", TANDEM_JOB_LEASE_SECONDS="5") as env:
        assert tandem(env, "migrate", "-q").returncode == 0
        setup = python(env, "-m", "tests.usage.store_scenario", "setup")
        assert setup.returncode == 0, setup.stderr
        info = json.loads(setup.stdout)
        events_file = tmp_path / "big.parquet"
        _events_file(events_file)

        port = free_port()
        server = start(env, "serve", "--port", str(port), log=tmp_path / "serve.log")
        workers = [start(env, "worker", "--poll", "0.2", log=tmp_path / f"worker{n}.log") for n in range(2)]
        try:
            wait_http(f"http://127.0.0.1:{port}/login/")
            now = dt.datetime.now(dt.UTC)
            batches = [
                [
                    {
                        "type": "track",
                        "userId": f"user-{b}-{i}",
                        "event": "Feature Used",
                        "messageId": str(uuid.uuid4()),
                        "timestamp": (now - dt.timedelta(minutes=b)).isoformat(),
                        "context": {"groupId": f"acct-{(b + i) % 20}"},
                    }
                    for i in range(PER_BATCH)
                ]
                for b in range(BATCHES)
            ]
            statuses: list[int] = []

            def send() -> None:
                for batch in batches:
                    statuses.append(_post(port, info["key"], batch))
                    time.sleep(0.02)

            sender = threading.Thread(target=send)
            sender.start()
            cli = {
                "import": tandem(env, "import", "events", str(events_file)),
                "metrics": tandem(env, "metrics", "compute"),
                "report": tandem(env, "report", "account", str(info["first_account"]), "--format", "html",
                                 "--out", str(tmp_path / "report.html")),
                "compact": tandem(env, "ingest", "compact"),
            }  # fmt: skip
            sender.join(120)
            for name, done in cli.items():
                assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"
                assert "lock" not in (done.stdout + done.stderr).lower(), name
            assert statuses == [200] * BATCHES
            # A client retrying a whole batch (same messageIds) adds nothing.
            assert _post(port, info["key"], batches[0]) == 200

            expected = IMPORTED + BATCHES * PER_BATCH
            deadline = time.monotonic() + 60
            while (counts := _check(env))["total"] < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            assert counts == {
                "total": expected,
                "tracked": BATCHES * PER_BATCH,
                "distinct_tracked": BATCHES * PER_BATCH,
                "imported": IMPORTED,
            }
            # Importing the same file again beside the server adds nothing.
            again = tandem(env, "import", "events", str(events_file))
            assert again.returncode == 0, again.stderr
            assert _check(env)["total"] == expected
            # The report ran after the import, in its own process: it reads the imported usage.
            assert "No product usage recorded" not in (tmp_path / "report.html").read_text()
        finally:
            for proc in (server, *workers):
                proc.terminate()
            for proc in (server, *workers):
                proc.wait(30)
        for log in ("serve.log", "worker0.log", "worker1.log"):
            text = (tmp_path / log).read_text()
            assert "Traceback" not in text, f"{log}:\n{text}"


def test_two_hosts_with_their_own_inboxes_share_one_event_store(tmp_path: Path) -> None:
    """Two serving "hosts" share TANDEM_HOME (the event store, snapshots) and the database; each has
    its own inbox on local disk (TANDEM_INBOX_PATH). Both take tracking calls at once; every call is
    stored once, and both stop cleanly."""
    with process_env(tmp_path / "shared") as env:
        if "DATABASE_URL" not in env:  # SQLite: both hosts use the one database file in the shared home
            env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared' / 'tandem.sqlite3'}"
        assert tandem(env, "migrate", "-q").returncode == 0
        setup = python(env, "-m", "tests.usage.store_scenario", "setup")
        assert setup.returncode == 0, setup.stderr
        key = json.loads(setup.stdout)["key"]
        hosts = []
        for name in ("a", "b"):
            host_env = {**env, "TANDEM_INBOX_PATH": str(tmp_path / f"host-{name}" / "inbox.sqlite3")}
            port = free_port()
            hosts.append((port, start(host_env, "serve", "--port", str(port), log=tmp_path / f"serve-{name}.log")))
        try:
            for port, _proc in hosts:
                wait_http(f"http://127.0.0.1:{port}/login/")
            now = dt.datetime.now(dt.UTC)
            statuses: list[int] = []

            def send(port: int, host: str) -> None:
                for b in range(15):
                    batch = [
                        {
                            "type": "track",
                            "userId": f"{host}-{b}-{i}",
                            "event": "Feature Used",
                            "messageId": f"{host}-{b}-{i}",
                            "timestamp": now.isoformat(),
                            "context": {"groupId": f"acct-{i % 20}"},
                        }
                        for i in range(PER_BATCH)
                    ]
                    statuses.append(_post(port, key, batch))

            senders = [threading.Thread(target=send, args=(port, f"h{n}")) for n, (port, _p) in enumerate(hosts)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join(120)
            assert statuses == [200] * 30
            expected = 2 * 15 * PER_BATCH
            deadline = time.monotonic() + 60
            while (counts := _check(env))["total"] < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            assert counts == {"total": expected, "tracked": expected, "distinct_tracked": expected, "imported": 0}
        finally:
            for _port, proc in hosts:
                proc.terminate()
            for _port, proc in hosts:
                assert proc.wait(30) == 0
        for name in ("a", "b"):
            text = (tmp_path / f"serve-{name}.log").read_text()
            assert "Traceback" not in text, text
