"""Records of the daily pipeline: one row per run, one per step it finished (docs/playbooks.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyStep(models.TextChoices):
    """The steps of the daily pipeline, in the order they run (later steps read earlier ones' output)."""

    METRICS = "metrics", _("Metrics")
    MILESTONES = "milestones", _("Success milestones")
    HEALTH = "health", _("Health scores")
    RISK = "risk", _("Churn risk")
    SEGMENTS = "segments", _("Segments")
    ANALYTICS = "analytics", _("Analytics")
    RENEWALS = "renewals", _("Renewals")
    RULES = "rules", _("Rules")
    CTAS = "ctas", _("Calls to action")
    DIGESTS = "digests", _("Daily digests")


class DailyRun(models.Model):
    """One run of the daily pipeline for a day.

    A run with a ``key`` (the scheduled job uses ``daily:<day>``) is resumed by a later attempt with
    the same key: the steps it finished are not run again. Runs without a key (``tandem metrics
    refresh``, the demo) run every step; each step is idempotent, so that changes nothing either.
    """

    day = models.DateField(_("day"))
    key = models.CharField(_("resume key"), max_length=100, null=True, blank=True, unique=True)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily run")
        verbose_name_plural = _("daily runs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["day"], name="daily_run_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} #{self.pk}"


class DailyRunStep(models.Model):
    """A step a daily run finished: its result (the step's typed result as JSON) and how long it took."""

    run = models.ForeignKey(DailyRun, verbose_name=_("daily run"), on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("step"), max_length=20, choices=DailyStep.choices)
    result = models.JSONField(_("result"), default=dict, encoder=DjangoJSONEncoder)
    seconds = models.FloatField(_("seconds"))
    finished_at = models.DateTimeField(_("finished"), auto_now_add=True)

    class Meta:
        verbose_name = _("daily run step")
        verbose_name_plural = _("daily run steps")
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="daily_step_once_per_run")]

    def __str__(self) -> str:
        return f"{self.run}: {self.step}"
