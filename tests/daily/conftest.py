"""Real `tandem` processes for the daily-pipeline tests, on the home and database of tests.processes.

Each test gets a TANDEM_HOME of its own and, on PostgreSQL, a database of its own on the suite's
server (``tests.processes.process_env``), migrated by a real ``tandem migrate``. Leases are 2 s so
that a worker can take over the job of a worker the test killed.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.playbooks.conftest import smtp  # noqa: F401 - shared fixture
from tests.processes import process_env, python, start, tandem


@dataclass
class Processes:
    """Runs `tandem` and ``python -m`` commands in one environment and stops what it started."""

    env: dict[str, str]
    home: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _ok(self, done: subprocess.CompletedProcess[str], args: tuple[str, ...]) -> str:
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def tandem(self, *args: str, timeout: float = 300) -> str:
        return self._ok(tandem(self.env, *args, timeout=timeout), args)

    def scenario(self, *args: str, timeout: float = 300) -> str:
        """``python -m tests.daily.scenario ARGS`` (the repository root is the working directory)."""
        return self._ok(python(self.env, "-m", "tests.daily.scenario", *args, timeout=timeout), args)

    def start(self, *args: str, log: str, **extra: str) -> subprocess.Popen[bytes]:
        process = start({**self.env, **extra}, *args, log=self.home.parent / log)
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def log(self, name: str) -> str:
        path = self.home.parent / name
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    home = tmp_path / "home"
    with process_env(home, TANDEM_JOB_LEASE_SECONDS="2") as env:
        procs = Processes(env=env, home=home)
        try:
            procs.tandem("migrate", "-q")
            yield procs
        finally:
            for process in procs.started:
                procs.stop(process, signal.SIGKILL)
