"""Real outside services for the meeting tests: a Radicale CalDAV server and an SMTP receiver."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.playbooks.conftest import free_port, smtp  # noqa: F401  (the SMTP receiver fixture)


class Radicale:
    def __init__(self, base: str) -> None:
        self.base = base

    def calendar_url(self, name: str) -> str:
        """Create (MKCALENDAR) an empty calendar collection and return its URL."""
        import requests

        url = f"{self.base}/{name}/calendar/"
        requests.request("MKCOL", f"{self.base}/{name}/", timeout=10)
        response = requests.request("MKCALENDAR", url, timeout=10)
        assert response.status_code == 201, response.text
        return url


@pytest.fixture
def radicale(tmp_path: Path, settings) -> Iterator[Radicale]:
    """Radicale on a free loopback port, storing in a temporary folder, without authentication."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--storage-filesystem-folder",
            str(tmp_path / "radicale"),
            "--auth-type",
            "none",
            "--rights-type",
            "authenticated",
            "--logging-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/.web/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"radicale did not start: {proc.stderr.read() if proc.stderr else ''}") from None
            time.sleep(0.1)
    settings.TANDEM_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    try:
        yield Radicale(base)
    finally:
        proc.terminate()
        proc.wait(10)


def run_due_jobs() -> tuple[int, int]:
    """Run the due jobs in this process (the worker's thread would close the test's connection).

    Returns (done, deferred). The real worker process is tested in test_worker.py.
    """
    from django.utils import timezone

    from tandem.audit.context import audit_context
    from tandem.jobs.models import Job, JobStatus
    from tandem.jobs.registry import job_function
    from tandem.jobs.services import JobDeferred

    done = deferred = 0
    while True:
        job = Job.objects.filter(status=JobStatus.QUEUED, run_after__lte=timezone.now()).order_by("id").first()
        if job is None:
            return done, deferred
        try:
            with audit_context(via="job"):
                job_function(job.name)(**job.payload)
        except JobDeferred:
            Job.objects.filter(pk=job.pk).update(run_after=timezone.now() + dt.timedelta(minutes=10))
            deferred += 1
            continue
        Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, finished_at=timezone.now())
        done += 1
