"""Enqueue, claim and finish jobs.

Enqueueing writes the job row in the caller's transaction: the queue lives in the same database,
so a job becomes visible exactly when the data it refers to commits, and never for rolled-back work
(the transactional-outbox form of "enqueue after commit"). Claiming takes a row lock with
``SKIP LOCKED`` on PostgreSQL so several workers never take the same job; on SQLite the
``IMMEDIATE`` write transaction serialises claims. A claim is a lease that the worker renews while
the job runs; when a worker dies its lease expires and another worker claims the job again, which
is why every job function must be idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from tandem.core.bulk import db_value, insert_rows
from tandem.jobs.models import Job, JobStatus
from tandem.jobs.registry import JOBS


def lease_seconds() -> float:
    return float(getattr(settings, "TANDEM_JOB_LEASE_SECONDS", 300))


def job_enqueue(
    *,
    name: str,
    payload: dict[str, Any] | None = None,
    key: str | None = None,
    run_after: dt.datetime | None = None,
    max_attempts: int = 5,
) -> Job | None:
    """Queue a job; with a ``key`` that was already queued (at any time) nothing is added: returns None."""
    if name not in JOBS:
        raise LookupError(f"no job named {name!r}")
    job = Job(
        name=name,
        payload=payload or {},
        key=key,
        run_after=run_after or timezone.now(),
        max_attempts=max_attempts,
    )
    if key is None:
        job.save()
        return job
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        return None
    return job


def job_enqueue_many(*, jobs: list[tuple[str, dict[str, Any], str | None]]) -> int:
    """Queue many ``(name, payload, key)`` jobs with a few multi-row statements, skipping keys already queued.

    Returns how many were added (keys already queued at any time are not counted).
    """
    if not jobs:
        return 0
    for name, _payload, _key in jobs:
        if name not in JOBS:
            raise LookupError(f"no job named {name!r}")
    now = db_value(Job, "run_after", timezone.now())
    queued = db_value(Job, "status", JobStatus.QUEUED)
    rows = [(name, json.dumps(payload), key, queued, now, 0, 5, "", None, "", now, None) for name, payload, key in jobs]
    added = insert_rows(
        model=Job,
        fields=JOB_FIELDS,
        rows=rows,
        returning=("id",),
        ignore_conflicts=True,
    )
    return len(added)


JOB_FIELDS = (
    "name",
    "payload",
    "key",
    "status",
    "run_after",
    "attempts",
    "max_attempts",
    "locked_by",
    "locked_until",
    "last_error",
    "created_at",
    "finished_at",
)


def worker_id() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def job_claim(*, worker: str, now: dt.datetime | None = None) -> Job | None:
    """Take the next due job (or one whose worker's lease expired) and lease it to ``worker``."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Q(status=JobStatus.QUEUED, run_after__lte=now) | Q(status=JobStatus.RUNNING, locked_until__lt=now)
        qs = Job.objects.filter(due).order_by("run_after", "id")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        job = qs.first()
        if job is None:
            return None
        job.status = JobStatus.RUNNING
        job.locked_by = worker
        job.locked_until = now + dt.timedelta(seconds=lease_seconds())
        job.attempts += 1
        job.save(update_fields=["status", "locked_by", "locked_until", "attempts"])
        return job


def job_renew_lease(*, job_id: int, worker: str) -> bool:
    """Extend the lease of a job this worker still holds; False when it lost it."""
    until = timezone.now() + dt.timedelta(seconds=lease_seconds())
    return bool(Job.objects.filter(pk=job_id, locked_by=worker, status=JobStatus.RUNNING).update(locked_until=until))


def job_finish(*, job_id: int, worker: str) -> None:
    Job.objects.filter(pk=job_id, locked_by=worker).update(
        status=JobStatus.DONE, finished_at=timezone.now(), locked_until=None, last_error=""
    )


def job_fail(*, job_id: int, worker: str, error: str) -> None:
    """Retry with exponential backoff, or give up after ``max_attempts``."""
    job = Job.objects.filter(pk=job_id, locked_by=worker).first()
    if job is None:
        return
    now = timezone.now()
    if job.attempts >= job.max_attempts:
        job.status = JobStatus.FAILED
        job.finished_at = now
    else:
        job.status = JobStatus.QUEUED
        job.run_after = now + dt.timedelta(seconds=min(3600, 10 * 2 ** (job.attempts - 1)))
    job.locked_until = None
    job.last_error = error[-4000:]
    job.save(update_fields=["status", "finished_at", "run_after", "locked_until", "last_error"])


class JobDeferred(Exception):
    """Raised by a job that cannot run yet for a reason outside it (e.g. SMTP not configured).

    The worker puts the job back in the queue for ``seconds`` without spending one of its
    attempts, so it neither counts as failed nor gives up while an administrator sets things up.
    """

    def __init__(self, reason: str, *, seconds: float = 600) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


def job_defer(*, job_id: int, worker: str, seconds: float, reason: str) -> None:
    """Queue the job again in ``seconds``; the attempt it just made is not counted."""
    Job.objects.filter(pk=job_id, locked_by=worker).update(
        status=JobStatus.QUEUED,
        run_after=timezone.now() + dt.timedelta(seconds=seconds),
        attempts=F("attempts") - 1,
        locked_until=None,
        last_error=reason[-4000:],
    )


def job_retry(*, job_id: int) -> int:
    """Put a failed job back in the queue (admin action)."""
    return Job.objects.filter(pk=job_id, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED, run_after=timezone.now(), max_attempts=F("attempts") + 1
    )
