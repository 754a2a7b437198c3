"""Run real `tandem` processes (serve, worker, CLI) side by side on one TANDEM_HOME in tests.

Processes cannot see the test database, so each scenario gets a home of its own and, when the
suite runs on PostgreSQL, a database of its own on the same server (created here, dropped after),
so the processes share the production database engine the suite is testing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process_env(home: Path, **extra: str) -> Iterator[dict[str, str]]:
    """Environment for `tandem` subprocesses: their own TANDEM_HOME, and on PostgreSQL their own database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DATABASE_URL", "PYTEST"))}
    env.update(
        TANDEM_HOME=str(home),
        TANDEM_SECRET_KEY="process-test-secret-key-0123456789-0123456789-0123456789",
        DJANGO_SETTINGS_MODULE="tandem.settings",
        **extra,
    )
    if connection.vendor != "postgresql":
        yield env
        return
    import psycopg

    params = connection.get_connection_params()
    name = f"tandem_proc_{uuid.uuid4().hex[:12]}"
    admin = {k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    user = params.get("user") or "postgres"
    host = params.get("host") or "127.0.0.1"
    port = params.get("port") or 5432
    env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{name}"
    try:
        yield env
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tandem(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `tandem ARGS` to completion and return it (stdout, stderr, returncode)."""
    return subprocess.run(
        [sys.executable, "-m", "tandem", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def python(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `tandem ARGS` in the background, its output going to ``log``."""
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tandem", *args], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
    )


def wait_http(url: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
