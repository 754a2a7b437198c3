"""`tandem serve` as a real process: SIGTERM stores what the inbox holds, a busy port is one line.

Each test runs the server in a TANDEM_HOME of its own (a served process cannot see the test
database) with its own SQLite database, inbox and event store.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DATABASE_URL", "PYTEST"))}
    env.update(
        TANDEM_HOME=str(home),
        TANDEM_SECRET_KEY="serve-test-secret-key-0123456789-0123456789-0123456789",
        DJANGO_SETTINGS_MODULE="tandem.settings",
        COLUMNS="60",  # a narrow terminal: messages must still be one line
    )
    return env


def _tandem(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tandem", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert server.poll() is None, "tandem serve exited before listening"
            assert time.monotonic() < deadline, "tandem serve never listened"
            time.sleep(0.1)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """A migrated TANDEM_HOME with one tracking source: (environment, write key)."""
    env = _env(tmp_path / "home")
    assert _tandem(env, "migrate", "-q").returncode == 0
    created = _tandem(env, "sources", "create", "Web app")
    assert created.returncode == 0, created.stderr
    yield env, created.stdout.strip().splitlines()[-1]


def _batch(key: str, port: int, prefix: str, n: int) -> int:
    """POST /v1/batch with a group call and ``n`` track calls; the number of accepted messages."""
    messages: list[dict[str, object]] = [
        {"type": "group", "userId": "u1", "groupId": "acct-1", "traits": {"name": "Globex"}, "messageId": prefix}
    ]
    messages += [
        {"type": "track", "userId": "u1", "event": "Report Viewed", "messageId": f"{prefix}-{i}"} for i in range(n)
    ]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/batch",
        data=json.dumps({"batch": messages}).encode(),
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return int(json.loads(response.read())["accepted"])


def _stored(env: dict[str, str]) -> tuple[int, int]:
    """(events in the event store, calls left in the inbox), read in a process of its own."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from tandem.ingest.inbox import Inbox\n"
        "from tandem.usage.eventstore import EventStore\n"
        "print(json.dumps([EventStore.for_settings().count(), Inbox.for_settings().backlog()]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events, backlog = json.loads(done.stdout.strip().splitlines()[-1])
    return events, backlog


def test_sigterm_right_after_the_200s_stores_every_accepted_call_and_exits_0(
    home: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, key = home
    port = _free_port()
    log = (tmp_path / "serve.out").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_port(port, server)
        accepted = sum(_batch(key, port, f"seq{b}", 40) for b in range(5))
        server.send_signal(signal.SIGTERM)  # the ingestor has had no time to store the last calls
        assert server.wait(60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    log.seek(0)
    output = log.read()
    assert "Traceback" not in output
    assert "Stopping" in output and "Stopped." in output
    assert accepted == 5 * 41
    # Every message of every call answered 200 is an event (the group calls are not events).
    assert _stored(env) == (5 * 40, 0)
    with socket.socket() as probe:  # and the port is free for the next server (which reuses addresses too)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_sigterm_while_clients_post_lets_the_requests_in_progress_finish(
    home: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, key = home
    port = _free_port()
    log = (tmp_path / "serve.out").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    answered: list[int] = []  # track messages of the calls answered 200
    refused: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for b in range(200):
            try:
                _batch(key, port, f"c{n}-{b}", 20)
            except (OSError, urllib.error.URLError) as exc:  # refused or reset once the server stops
                with lock:
                    refused.append(type(exc).__name__)
                return
            with lock:
                answered.append(20)

    try:
        _wait_for_port(port, server)
        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in clients:
            t.start()
        while len(answered) < 8 and all(t.is_alive() for t in clients):
            time.sleep(0.01)
        server.send_signal(signal.SIGTERM)  # while the four clients keep posting
        assert server.wait(60) == 0
        for t in clients:
            t.join(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    log.seek(0)
    assert "Traceback" not in log.read()
    assert len(refused) == 4  # every client was eventually turned away
    events, backlog = _stored(env)
    # Everything answered is stored; a call whose answer the client never read may be stored too.
    assert backlog == 0
    assert sum(answered) <= events <= sum(answered) + 4 * 20


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path / "home")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _tandem(env, "serve", "--port", str(port))
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: Port {port} on 127.0.0.1 is already in use; stop the other server or pass --port."
    ]


def test_demo_checks_the_port_before_building(tmp_path: Path) -> None:
    env = _env(tmp_path / "home")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _tandem(env, "demo", "--accounts", "10", "--port", str(port))
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        f"error: Port {port} on 127.0.0.1 is already in use; stop the other server or pass --port."
    ]
    assert done.stdout == ""  # nothing was built (no progress, no "Built the demo")
