"""The background job queue: rows in the main database, claimed by `tandem worker` processes."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """One run of a registered job function. ``key`` makes enqueueing idempotent (one job per key)."""

    name = models.CharField(_("job"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    run_after = models.DateTimeField(_("run after"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("max attempts"), default=5)
    locked_by = models.CharField(_("worker"), max_length=100, blank=True)
    # The lease: a running job whose lease expired belongs to a dead worker and is claimed again.
    locked_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-id"]
        indexes = [
            # Workers only ever look at queued or running rows: finished ones never slow the claim.
            models.Index(fields=["run_after", "id"], condition=Q(status="queued"), name="job_queued_idx"),
            models.Index(fields=["locked_until"], condition=Q(status="running"), name="job_running_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class Computation(models.Model):
    """A long computation's progress and result: started by a user (run by a worker) or stored daily.

    A user who starts something that takes seconds (a scorecard preview, a backtest with other
    options, a PDF report) gets a row here and a job; the page polls the row's progress with htmx
    (``tandem.jobs.views``) and shows the result when the worker has stored it. The daily pipeline
    stores the results every page needs by default under the same ``key``, so those pages read them
    without starting anything. Only the user who started a computation sees it (``requested_by``);
    stored daily results (no ``requested_by``) are visible to everyone who may open the page.
    """

    kind = models.CharField(_("kind"), max_length=60)
    key = models.CharField(_("key"), max_length=200, null=True, blank=True, unique=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    output = models.BinaryField(_("file"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("computation")
        verbose_name_plural = _("computations")
        ordering = ["-id"]
        indexes = [models.Index(fields=["kind", "created_at"], name="computation_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
