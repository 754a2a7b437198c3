"""Declarative metric definitions and the current value of each metric per account."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class MetricKind(models.TextChoices):
    EVENT_COUNT = "event_count", _("Event count over a window")
    DISTINCT_USERS = "distinct_users", _("Distinct active users over a window")
    PROPERTY_SUM = "property_sum", _("Sum of an event property over a window")
    ACTIVE_DAYS = "active_days", _("Active days over a window")
    RATIO = "ratio", _("Ratio of two metrics")
    PER_SEAT = "per_seat", _("Per licensed seat")
    CHANGE = "change", _("Change versus the previous window")
    TENURE = "tenure_days", _("Tenure in days")
    MRR = "mrr", _("MRR (reporting currency)")
    SEATS = "seats", _("Licensed seats")
    OPEN_TICKETS = "open_tickets", _("Open tickets")
    TICKET_RATE = "ticket_rate", _("Tickets opened per 30 days")
    DAYS_SINCE_INTERACTION = "days_since_interaction", _("Days since last interaction")
    LATEST_NPS = "latest_nps", _("Latest NPS score")
    MILESTONE_COMPLETION = "milestone_completion", _("Success milestones completed (share of those due)")


# Kinds aggregated from usage events; CHANGE may only refer to one of these.
EVENT_KINDS = frozenset(
    {MetricKind.EVENT_COUNT, MetricKind.DISTINCT_USERS, MetricKind.PROPERTY_SUM, MetricKind.ACTIVE_DAYS}
)


class MetricDefinition(TimeStampedModel):
    """One metric, computed for every account at an as-of date from data up to that date."""

    key = models.SlugField(_("key"), max_length=60, unique=True, help_text=_("Lower-case identifier, e.g. logins_28d."))
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=MetricKind.choices)
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_("Event names counted; empty means every event.")
    )
    window_days = models.PositiveIntegerField(
        _("window (days)"), default=28, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    property = models.CharField(
        _("property"), max_length=100, blank=True, help_text=_("For a property sum: 'quantity' or a JSON property.")
    )
    numerator = models.SlugField(_("numerator metric"), max_length=60, blank=True)
    denominator = models.SlugField(_("denominator metric"), max_length=60, blank=True)
    base = models.SlugField(
        _("base metric"), max_length=60, blank=True, help_text=_("The metric a per-seat or change metric is built on.")
    )
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class MetricValue(models.Model):
    """The latest computed value of a metric for an account (for sorting and filtering in Django)."""

    # No single-column FK indexes: metric_value_account_idx and the (metric, account) unique
    # constraint already cover them, and every extra index slows the daily rewrite of all rows.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="metric_values", db_index=False
    )
    metric = models.ForeignKey(
        MetricDefinition, on_delete=models.CASCADE, related_name="current_values", db_index=False
    )
    value = models.FloatField(null=True)
    as_of = models.DateField()

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        constraints = [models.UniqueConstraint(fields=["metric", "account"], name="metric_value_unique")]
        indexes = [
            models.Index(fields=["metric", "value"], name="metric_value_idx"),
            models.Index(fields=["account"], name="metric_value_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}/{self.account_id}: {self.value}"
