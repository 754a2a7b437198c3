"""Health scorecards, their measures, and the current scores (history lives in Parquet snapshots)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.accounts.models import Tier
from tandem.core.models import TimeStampedModel


class MissingPolicy(models.TextChoices):
    NEUTRAL = "neutral", _("Count as neutral (50)")
    SKIP = "skip", _("Leave out and re-weight the others")
    WORST = "worst", _("Count as worst (0)")


class ScoringMethod(models.TextChoices):
    PERCENTILE = "percentile", _("Percentile within the segment")
    THRESHOLDS = "thresholds", _("Thresholds (poor → good)")


class Band(models.TextChoices):
    GOOD = "good", _("Good")
    NEUTRAL = "neutral", _("Neutral")
    POOR = "poor", _("Poor")


class Scorecard(TimeStampedModel):
    """A named way to score account health from metrics (0-100, higher is healthier)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    segment = models.CharField(
        _("segment"), max_length=20, choices=Tier.choices, blank=True, help_text=_("Empty: every account.")
    )
    is_primary = models.BooleanField(
        _("primary"), default=False, help_text=_("Shown in the accounts list and used as the health score.")
    )
    missing_policy = models.CharField(
        _("missing data"), max_length=10, choices=MissingPolicy.choices, default=MissingPolicy.NEUTRAL
    )
    good_threshold = models.FloatField(
        _("good from"), default=65.0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    poor_threshold = models.FloatField(
        _("poor below"), default=40.0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_primary"], condition=models.Q(is_primary=True), name="one_primary_scorecard"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScorecardMeasure(models.Model):
    """One metric in a scorecard: how it is scored 0-100 and how much it weighs."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="measures")
    metric = models.ForeignKey(
        "metrics.MetricDefinition", verbose_name=_("metric"), on_delete=models.PROTECT, related_name="measures"
    )
    group = models.CharField(_("group"), max_length=60, blank=True)
    weight = models.FloatField(_("weight"), default=1.0, validators=[MinValueValidator(0)])
    method = models.CharField(
        _("scoring"), max_length=12, choices=ScoringMethod.choices, default=ScoringMethod.PERCENTILE
    )
    poor_value = models.FloatField(_("poor at"), null=True, blank=True, help_text=_("Thresholds: scores 0 here."))
    good_value = models.FloatField(_("good at"), null=True, blank=True, help_text=_("Thresholds: scores 100 here."))

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["group", "id"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "metric"], name="measure_unique_metric")]

    def __str__(self) -> str:
        return f"{self.scorecard}: {self.metric}"


class HealthScoreCurrent(models.Model):
    """The latest score of an account on each scorecard, with the measures that pull it down."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="health_scores")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="current_scores")
    score = models.FloatField()
    band = models.CharField(max_length=10, choices=Band.choices)
    as_of = models.DateField()
    change_7d = models.FloatField(null=True)
    change_30d = models.FloatField(null=True)
    reasons = models.JSONField(default=list)

    class Meta:
        verbose_name = _("health score")
        verbose_name_plural = _("health scores")
        constraints = [models.UniqueConstraint(fields=["scorecard", "account"], name="health_current_unique")]
        indexes = [models.Index(fields=["account"], name="health_current_account_idx")]

    def __str__(self) -> str:
        return f"{self.scorecard_id}/{self.account_id}: {self.score:.0f}"


class AccountHealth(models.Model):
    """One row per account: the primary scorecard's current score, joined into the accounts list."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    score = models.FloatField(_("health"))
    band = models.CharField(_("health band"), max_length=10, choices=Band.choices)
    as_of = models.DateField()
    change_7d = models.FloatField(null=True)
    change_30d = models.FloatField(null=True)

    class Meta:
        verbose_name = _("account health")
        verbose_name_plural = _("account health")
        indexes = [
            models.Index(fields=["score", "account"], name="account_health_score_idx"),
            models.Index(fields=["band", "score"], name="account_health_band_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score:.0f} ({self.band})"
