"""Tests' side of long computations: run the queued ones as a worker would, then fetch what the page's poll shows."""

from __future__ import annotations

import re

from django.test import Client

from tandem.jobs.models import Job, JobStatus
from tandem.jobs.registry import job_function

POLL = re.compile(r'hx-get="(/jobs/computations/\d+/)"')


def poll_urls(html: str) -> list[str]:
    return POLL.findall(html)


def run_computations() -> int:
    """Run every queued ``jobs.compute`` job in this thread and transaction (the worker's loop,
    ``tandem.jobs.worker.run_worker``, closes connections between jobs, which a test transaction
    on PostgreSQL does not survive)."""
    jobs = list(Job.objects.filter(name="jobs.compute", status=JobStatus.QUEUED).order_by("id"))
    for job in jobs:
        job_function(job.name)(**job.payload)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    return len(jobs)


def finish(client: Client, html: str) -> str:
    """Run the queued computations, then fetch each computation the page polls; the pieces joined."""
    urls = poll_urls(html)
    assert urls, "the page polls no computation"
    assert run_computations() >= 1
    return "\n".join(client.get(url).content.decode() for url in urls)
