"""`tandem worker`: claim and run jobs, renew their leases, and schedule the daily pipeline."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from tandem.jobs.registry import job_function
from tandem.jobs.services import (
    JobDeferred,
    job_claim,
    job_defer,
    job_enqueue,
    job_fail,
    job_finish,
    job_renew_lease,
    lease_seconds,
    worker_id,
)

log = logging.getLogger(__name__)


def checkpoint(name: str) -> None:
    """A test hook: with TANDEM_JOBS_PAUSE_AT=name, write TANDEM_JOBS_PAUSE_FILE and hang here.

    The kill-the-worker test uses it to SIGKILL a worker at a precise point inside a job.
    """
    if os.environ.get("TANDEM_JOBS_PAUSE_AT") != name:
        return
    marker = os.environ.get("TANDEM_JOBS_PAUSE_FILE")
    if marker:
        Path(marker).write_text(name)
    while True:  # pragma: no cover - the test kills the process here
        time.sleep(1)


def schedule_daily(*, now: dt.datetime | None = None) -> bool:
    """Queue today's daily pipeline once its hour has come; the key makes it once a day per database."""
    now = timezone.localtime(now or timezone.now())
    hour = int(getattr(settings, "TANDEM_DAILY_HOUR", 6))
    if now.hour < hour:
        return False
    today = now.date().isoformat()
    return job_enqueue(name="playbooks.daily", payload={"day": today}, key=f"daily:{today}") is not None


class _Heartbeat(threading.Thread):
    """Renews the lease of the running job every third of the lease."""

    def __init__(self, job_id: int, worker: str) -> None:
        super().__init__(daemon=True)
        self.job_id, self.worker = job_id, worker
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(max(0.2, lease_seconds() / 3)):
                job_renew_lease(job_id=self.job_id, worker=self.worker)
        finally:
            connection.close()


@dataclass
class WorkerStats:
    done: int = 0
    failed: int = 0
    deferred: int = 0
    names: list[str] = field(default_factory=list)


def run_one(*, worker: str) -> str | None:
    """Claim and run one job; returns its name, or None when nothing was due."""
    job = job_claim(worker=worker)
    if job is None:
        return None
    from tandem.audit.context import audit_context
    from tandem.audit.models import AuditVia

    heartbeat = _Heartbeat(job.pk, worker)
    heartbeat.start()
    try:
        # What a job changes is recorded as via "job" (the rules it runs narrow that to "rule").
        with audit_context(via=AuditVia.JOB):
            job_function(job.name)(**job.payload)
    except JobDeferred as deferred:
        log.info("job %s #%s deferred %ss: %s", job.name, job.pk, deferred.seconds, deferred.reason)
        job_defer(job_id=job.pk, worker=worker, seconds=deferred.seconds, reason=deferred.reason)
        return f"~{job.name}"
    except Exception:
        log.exception("job %s #%s failed", job.name, job.pk)
        job_fail(job_id=job.pk, worker=worker, error=traceback.format_exc())
        return f"!{job.name}"
    finally:
        heartbeat.stopped.set()
        heartbeat.join()
    job_finish(job_id=job.pk, worker=worker)
    return job.name


def run_worker(
    *, burst: bool = False, poll_seconds: float = 1.0, schedule: bool = True, max_jobs: int | None = None
) -> WorkerStats:
    """Run jobs until stopped; with ``burst`` stop once nothing is due."""
    worker = worker_id()
    stats = WorkerStats()
    from tandem.playbooks.services.emails import queued_emails_release

    queued_emails_release()  # emails that waited for an SMTP server go out now that one may be set
    while max_jobs is None or stats.done + stats.failed < max_jobs:
        close_old_connections()
        if schedule:
            schedule_daily()
        name = run_one(worker=worker)
        if name is None:
            if burst:
                break
            time.sleep(poll_seconds)
            continue
        if name.startswith("!"):
            stats.failed += 1
        elif name.startswith("~"):
            stats.deferred += 1
        else:
            stats.done += 1
        stats.names.append(name)
    return stats
