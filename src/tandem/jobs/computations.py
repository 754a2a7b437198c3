"""Long computations on a worker, with a progress state the page polls (see models.Computation).

A kind names two functions by dotted path: ``compute(params, progress) -> Output`` runs on the
worker (``progress(percent, stage)`` stores how far it got), and ``render(request, computation)``
turns a finished computation into the HTML fragment the polling page swaps in. Views start a
computation with :func:`computation_start` and return :func:`progress_fragment`; the fragment polls
``jobs:computation`` every second until the worker has stored the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tandem.jobs.models import Computation, JobStatus
from tandem.jobs.services import job_enqueue

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from tandem.users.models import User

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


@dataclass
class Output:
    """What a computation produced: JSON for the page, optionally a file to download."""

    result: dict[str, Any] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str = ""
    filename: str = ""


@dataclass(frozen=True)
class Kind:
    compute: str  # dotted path: (params, progress) -> Output
    render: str  # dotted path: (request, computation) -> HttpResponse


KINDS: dict[str, Kind] = {
    "health.backtest": Kind(
        "tandem.health.computations.backtest_compute", "tandem.health.computations.backtest_render"
    ),
    "health.preview": Kind("tandem.health.computations.preview_compute", "tandem.health.computations.preview_render"),
    "revenue.summary": Kind(
        "tandem.revenue.computations.summary_compute", "tandem.revenue.computations.summary_render"
    ),
    "reports.render": Kind("tandem.reports.computations.report_compute", "tandem.reports.computations.report_render"),
    "success.plan_pdf": Kind("tandem.success.documents.plan_pdf_compute", "tandem.success.documents.plan_pdf_render"),
}


def computation_start(
    *, kind: str, params: dict[str, Any], requested_by: User | None, key: str | None = None
) -> Computation:
    """Queue a computation for a worker; with a ``key`` already started (and not failed) return that one."""
    if kind not in KINDS:
        raise LookupError(f"no computation named {kind!r}")
    if key is not None:
        existing = Computation.objects.filter(key=key).first()
        if existing is not None and existing.status != JobStatus.FAILED:
            return existing
        if existing is not None:
            existing.delete()
    try:
        with transaction.atomic():
            row = Computation.objects.create(kind=kind, key=key, params=params, requested_by=requested_by)
            job_enqueue(name="jobs.compute", payload={"computation": row.pk}, key=f"compute:{row.pk}")
    except IntegrityError:  # the same key started by a concurrent request
        return Computation.objects.get(key=key)
    return row


def computation_store(*, kind: str, key: str, params: dict[str, Any], output: Output) -> Computation:
    """Store a result computed now (the daily pipeline's defaults) under ``key``, replacing an older one."""
    row, _created = Computation.objects.update_or_create(
        key=key,
        defaults={
            "kind": kind,
            "params": {**params, "daily": True},
            "requested_by": None,
            "status": JobStatus.DONE,
            "progress": 100,
            "stage": "",
            "result": output.result,
            "output": output.content,
            "content_type": output.content_type,
            "filename": output.filename,
            "error": "",
            "finished_at": timezone.now(),
        },
    )
    return row


def computation_progress(*, computation_id: int, percent: int, stage: str) -> None:
    """Record how far a running computation got (its own short transaction: the page sees it at once)."""
    Computation.objects.filter(pk=computation_id).update(
        status=JobStatus.RUNNING, progress=max(0, min(int(percent), 99)), stage=stage[:200]
    )


def run_computation(*, computation: int) -> None:
    """The job ``jobs.compute``: run one computation and store its output (idempotent: done stays done)."""
    row = Computation.objects.filter(pk=computation).first()
    if row is None or row.status == JobStatus.DONE:
        return
    computation_progress(computation_id=row.pk, percent=0, stage=_("Started"))
    compute = import_string(KINDS[row.kind].compute)
    try:
        output: Output = compute(
            row.params, lambda percent, stage: computation_progress(computation_id=row.pk, percent=percent, stage=stage)
        )
    except Exception as exc:
        log.exception("computation %s #%s failed", row.kind, row.pk)
        Computation.objects.filter(pk=row.pk).update(
            status=JobStatus.FAILED, error=str(exc) or exc.__class__.__name__, finished_at=timezone.now()
        )
        return
    Computation.objects.filter(pk=row.pk).update(
        status=JobStatus.DONE,
        progress=100,
        stage="",
        result=output.result,
        output=output.content,
        content_type=output.content_type,
        filename=output.filename,
        finished_at=timezone.now(),
    )


def render_finished(request: HttpRequest, row: Computation) -> HttpResponse:
    renderer: Callable[[HttpRequest, Computation], HttpResponse] = import_string(KINDS[row.kind].render)
    return renderer(request, row)


def progress_fragment(request: HttpRequest, row: Computation) -> HttpResponse:
    """The finished result, or a progress bar that polls the computation every second."""
    from django.shortcuts import render

    if row.status == JobStatus.DONE:
        return render_finished(request, row)
    return render(request, "jobs/_progress.html", {"computation": row})
