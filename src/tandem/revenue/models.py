"""Stored revenue analytics: cohorts and CLV computed by the daily pipeline, read by the pages."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class RevenueAnalytics(models.Model):
    """One computed result (``kind``: ``cohorts`` or ``clv:<segment>``) as of a day.

    The daily pipeline rewrites every kind once a day (``tandem.revenue.services``); the cohort
    and lifetime-value page and the reports only read these rows, so a request never fits a model.
    ``error`` holds why the computation could not run (for example a currency without an exchange
    rate); ``payload`` is then empty.
    """

    kind = models.CharField(_("kind"), max_length=40, unique=True)
    as_of = models.DateField(_("data as of"))
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds"), default=0)
    error = models.TextField(_("error"), blank=True)
    payload = models.JSONField(_("result"), default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("revenue analytics result")
        verbose_name_plural = _("revenue analytics results")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.as_of})"
