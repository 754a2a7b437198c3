"""Renewal and expansion opportunities, churn reasons, renewal lead times and AM quotas.

All amounts are annual (ARR) in the reporting currency, so opportunities of accounts in different
currencies add up in forecasts and quota attainment.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.accounts.models import Tier
from tandem.core.models import TimeStampedModel


class OpportunityKind(models.TextChoices):
    RENEWAL = "renewal", _("Renewal")
    UPSELL = "upsell", _("Upsell")
    CROSS_SELL = "cross_sell", _("Cross-sell")
    ADDON = "addon", _("Add-on")


EXPANSION_KINDS = (OpportunityKind.UPSELL, OpportunityKind.CROSS_SELL, OpportunityKind.ADDON)


class Stage(models.TextChoices):
    QUALIFY = "qualify", _("Qualify")
    PROPOSE = "propose", _("Propose")
    NEGOTIATE = "negotiate", _("Negotiate")
    CLOSED_WON = "closed_won", _("Closed won")
    CLOSED_LOST = "closed_lost", _("Closed lost")


OPEN_STAGES = (Stage.QUALIFY, Stage.PROPOSE, Stage.NEGOTIATE)
# Default win probability (percent) of each stage; an AM may override it per opportunity.
STAGE_PROBABILITY = {
    Stage.QUALIFY: Decimal("20"),
    Stage.PROPOSE: Decimal("50"),
    Stage.NEGOTIATE: Decimal("80"),
    Stage.CLOSED_WON: Decimal("100"),
    Stage.CLOSED_LOST: Decimal("0"),
}


class ForecastCategory(models.TextChoices):
    """Where an open deal counts in the forecast. Renewals name them commit/probable/at risk/lost."""

    COMMIT = "commit", _("Commit")
    BEST_CASE = "best_case", _("Best case")
    PIPELINE = "pipeline", _("Pipeline")
    OMITTED = "omitted", _("Omitted")


RENEWAL_FORECAST_LABELS = {
    ForecastCategory.COMMIT: _("Commit"),
    ForecastCategory.BEST_CASE: _("Probable"),
    ForecastCategory.PIPELINE: _("At risk"),
    ForecastCategory.OMITTED: _("Lost"),
}
STAGE_FORECAST = {
    Stage.QUALIFY: ForecastCategory.PIPELINE,
    Stage.PROPOSE: ForecastCategory.BEST_CASE,
    Stage.NEGOTIATE: ForecastCategory.COMMIT,
}


class RenewalOutcome(models.TextChoices):
    RENEWED = "renewed", _("Renewed")
    EXPANDED = "renewed_expansion", _("Renewed with expansion")
    CONTRACTED = "renewed_contraction", _("Renewed with contraction")
    CHURNED = "churned", _("Churned")


class OpportunitySource(models.TextChoices):
    MANUAL = "manual", _("Created by hand")
    AUTOMATIC = "automatic", _("Opened automatically")
    CTA = "cta", _("From a call to action")


class ChurnReason(TimeStampedModel):
    """A managed reason a customer gave for leaving."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("churn reason")
        verbose_name_plural = _("churn reasons")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RenewalPolicy(TimeStampedModel):
    """How many days before a term ends its renewal opportunity opens, for one tier."""

    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, unique=True)
    lead_days = models.PositiveSmallIntegerField(_("lead days"), validators=[MaxValueValidator(730)])

    class Meta:
        verbose_name = _("renewal policy")
        verbose_name_plural = _("renewal policies")
        ordering = ["tier"]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {self.lead_days}"


class Opportunity(TimeStampedModel):
    """A renewal of a contract term, or an upsell, cross-sell or add-on deal, owned by an AM."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="opportunities"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OpportunityKind.choices)
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.QUALIFY)
    probability = models.DecimalField(
        _("probability (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    forecast_category = models.CharField(
        _("forecast category"), max_length=20, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    # ARR in the reporting currency: the expected renewed ARR for a renewal, the added ARR otherwise.
    amount = models.DecimalField(
        _("amount (ARR)"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    close_date = models.DateField(_("close date"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=OpportunitySource.choices, default=OpportunitySource.MANUAL
    )
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Renewals only: the term up for renewal, its ARR when the opportunity opened, the outcome.
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("term renewed"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal_opportunities",
    )
    current_arr = models.DecimalField(_("current ARR"), max_digits=16, decimal_places=2, default=Decimal("0"))
    outcome = models.CharField(_("outcome"), max_length=30, choices=RenewalOutcome.choices, blank=True)
    churn_reason = models.ForeignKey(
        ChurnReason, verbose_name=_("churn reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    next_subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("next term"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["close_date", "id"]
        indexes = [
            models.Index(fields=["kind", "stage", "close_date"], name="opportunity_board_idx"),
            models.Index(fields=["owner", "closed_on"], name="opportunity_owner_idx"),
            models.Index(fields=["account", "kind"], name="opportunity_account_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(kind="renewal"),
                name="opportunity_one_renewal_per_term",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def is_renewal(self) -> bool:
        return self.kind == OpportunityKind.RENEWAL

    @property
    def forecast_label(self) -> str:
        if self.is_renewal:
            return str(RENEWAL_FORECAST_LABELS[ForecastCategory(self.forecast_category)])
        return str(self.get_forecast_category_display())

    @property
    def weighted_amount(self) -> Decimal:
        if not isinstance(self.amount, Decimal | int | float):
            return self.amount  # hidden by the reader's access rule
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))

    @property
    def arr_change(self) -> Decimal:
        """For a renewal: expected ARR minus current ARR."""
        if not isinstance(self.amount, Decimal | int | float):
            return self.amount  # hidden by the reader's access rule
        return self.amount - self.current_arr


class Quota(TimeStampedModel):
    """What an account manager should close (ARR, reporting currency) in one period."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="quotas"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = models.DecimalField(
        _("quota (ARR)"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["period_start", "owner_id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "period_start"], name="quota_one_per_owner_period"),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="quota_period"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.period_start}–{self.period_end}"
