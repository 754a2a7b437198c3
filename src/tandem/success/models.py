"""Success plans: an account's desired outcomes and the milestones on the way to them.

Desired outcome = required outcome (what the customer must achieve, with a measurable KPI) +
appropriate experience (how: the service model, touch points and cadence agreed). Each outcome's KPI
is either a metric with a target (read from the metrics the daily pipeline computes) or a figure the
customer reports (a return on investment with a baseline and a target). Milestones mark the path;
one linked to a metric completes itself when the metric reaches its threshold (the daily
pipeline's *milestones* step), the others are completed by hand with evidence. Changes are kept in
the audit history, so a plan's earlier goals stay readable when the customer's goals change.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class ServiceModel(models.TextChoices):
    HIGH_TOUCH = "high_touch", _("High touch")
    LOW_TOUCH = "low_touch", _("Low touch")
    TECH_TOUCH = "tech_touch", _("Tech touch")


class SuccessPlan(TimeStampedModel):
    """One plan per account: its executive sponsor and the experience agreed for the journey."""

    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="success_plan"
    )
    sponsor = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("executive sponsor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_plans",
    )
    service_model = models.CharField(_("service model"), max_length=20, choices=ServiceModel.choices, blank=True)
    cadence_days = models.PositiveSmallIntegerField(
        _("touch-point cadence (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("How often the customer and the CSM agreed to meet."),
    )
    experience = models.TextField(
        _("appropriate experience"),
        blank=True,
        help_text=_("How the customer must reach its outcomes: touch points, people involved, constraints."),
    )

    class Meta:
        verbose_name = _("success plan")
        verbose_name_plural = _("success plans")

    def __str__(self) -> str:
        return str(_("Success plan of %(account)s") % {"account": self.account})

    def clean(self) -> None:
        if self.sponsor_id is not None and self.sponsor is not None and self.sponsor.account_id != self.account_id:
            raise ValidationError({"sponsor": _("The sponsor must be a contact of this account.")})


class KpiKind(models.TextChoices):
    METRIC = "metric", _("A metric reaches a target")
    REPORTED = "reported", _("A figure the customer reports (ROI)")


class OutcomeStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    ACHIEVED = "achieved", _("Achieved")
    DROPPED = "dropped", _("No longer a goal")


class DesiredOutcome(TimeStampedModel):
    """A required outcome of a plan, measured by a KPI: a metric's target, or a reported figure."""

    plan = models.ForeignKey(SuccessPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="outcomes")
    title = models.CharField(_("required outcome"), max_length=200)
    kpi_kind = models.CharField(_("measured by"), max_length=10, choices=KpiKind.choices, default=KpiKind.METRIC)
    metric = models.ForeignKey(
        "metrics.MetricDefinition",
        verbose_name=_("metric"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.CharField(
        _("unit"), max_length=40, blank=True, help_text=_("For a reported figure: hours saved a month, %, …")
    )
    baseline = models.FloatField(_("baseline"), null=True, blank=True)
    target = models.FloatField(_("target"))
    reported = models.FloatField(_("reported value"), null=True, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=OutcomeStatus.choices, default=OutcomeStatus.OPEN)
    achieved_on = models.DateField(_("achieved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("desired outcome")
        verbose_name_plural = _("desired outcomes")
        ordering = ["plan", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kpi_kind="metric") | models.Q(metric__isnull=False), name="outcome_metric_kpi"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.kpi_kind == KpiKind.METRIC and self.metric_id is None:
            raise ValidationError({"metric": _("Choose the metric that measures this outcome.")})


class SuccessMilestone(TimeStampedModel):
    """A milestone of an account's success plan (e.g. "first report shared"); overdue when past due and open."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="milestones",
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    outcome = models.ForeignKey(
        DesiredOutcome,
        verbose_name=_("outcome"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="milestones",
    )
    metric = models.ForeignKey(
        "metrics.MetricDefinition",
        verbose_name=_("completes when metric"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    threshold = models.FloatField(_("reaches"), null=True, blank=True)
    reached_value = models.FloatField(_("value when reached"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("success milestone")
        verbose_name_plural = _("success milestones")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["account", "due_date"], name="milestone_account_idx"),
            models.Index(fields=["due_date"], condition=Q(completed_at__isnull=True), name="milestone_open_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(metric__isnull=True, threshold__isnull=True)
                | Q(metric__isnull=False, threshold__isnull=False),
                name="milestone_metric_with_threshold",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if self.metric_id is not None and self.threshold is None:
            errors["threshold"] = _("Give the value the metric must reach.")
        if self.threshold is not None and self.metric_id is None:
            errors["metric"] = _("Choose the metric that must reach this value.")
        if self.outcome_id is not None and self.outcome is not None and self.outcome.plan.account_id != self.account_id:
            errors["outcome"] = _("The outcome belongs to another account's plan.")
        if errors:
            raise ValidationError(errors)


class PlanShare(models.Model):
    """A link that shows an account's success plan to one of its contacts, read-only, without a login.

    The link carries a signed token (``django.core.signing``) naming this row and its random ``key``,
    so a changed token is refused before the database is read and a deleted row's number cannot be
    reused. It stops working at ``expires_at`` or when revoked. With ``require_code`` the customer
    also types a one-time code mailed to the contact's address (stored as a hash, valid 15 minutes).
    """

    plan = models.ForeignKey(SuccessPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="shares")
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("shared with"), on_delete=models.CASCADE, related_name="plan_shares"
    )
    key = models.CharField(max_length=32, editable=False)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    expires_at = models.DateTimeField(_("expires"))
    require_code = models.BooleanField(
        _("ask for a one-time code"), default=False, help_text=_("Mailed to the contact each time the link is opened.")
    )
    created_at = models.DateTimeField(_("shared"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shared by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_viewed_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    views = models.PositiveIntegerField(_("times opened"), default=0)
    code_hash = models.CharField(max_length=128, blank=True, editable=False)
    code_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("shared success plan")
        verbose_name_plural = _("shared success plans")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(_("Success plan shared with %(contact)s") % {"contact": self.contact})

    @property
    def account_id(self) -> int:
        return self.plan.account_id


class PlanComment(models.Model):
    """What a customer wrote on their shared plan; it is also an entry on the account's timeline."""

    share = models.ForeignKey(
        PlanShare, verbose_name=_("shared plan"), on_delete=models.CASCADE, related_name="comments"
    )
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="plan_comments"
    )
    body = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment on a shared plan")
        verbose_name_plural = _("comments on shared plans")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class PlanTemplate(TimeStampedModel):
    """A success plan to start from: outcomes and milestones with their dates relative to the day it
    is applied, for the accounts of a segment (or any account). With ``auto_apply`` the daily
    pipeline gives it to each account of the segment that has no outcome yet."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    segment = models.ForeignKey(
        "segments.Segment",
        verbose_name=_("for the segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_templates",
        help_text=_("Offered first to its accounts; empty: any account."),
    )
    auto_apply = models.BooleanField(
        _("give it to the segment's new accounts"),
        default=False,
        help_text=_("Every day, accounts of the segment without a desired outcome get this plan."),
    )
    service_model = models.CharField(_("service model"), max_length=20, choices=ServiceModel.choices, blank=True)
    cadence_days = models.PositiveSmallIntegerField(_("touch-point cadence (days)"), null=True, blank=True)
    experience = models.TextField(_("appropriate experience"), blank=True)
    # [{"title", "kpi_kind", "metric" (key), "unit", "baseline", "target", "target_days"}]
    outcomes = models.JSONField(_("outcomes"), default=list, blank=True)
    # [{"title", "due_days", "outcome" (index in outcomes or null), "metric" (key), "threshold"}]
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("success plan template")
        verbose_name_plural = _("success plan templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
