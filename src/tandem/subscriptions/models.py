"""What customers pay for: products, contract terms with line items, and exchange rates."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel
from tandem.core.money import currency_code_validator, monthly, to_cents


class ProductKind(models.TextChoices):
    PLAN = "plan", _("Plan")
    ADDON = "addon", _("Add-on")


class Product(TimeStampedModel):
    """A plan or add-on that can appear on a subscription line."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=ProductKind.choices, default=ProductKind.PLAN)
    unit_label = models.CharField(_("unit"), max_length=30, default="seat")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class BillingPeriod(models.IntegerChoices):
    """Billing period, valued in months so MRR normalisation is a division."""

    MONTHLY = 1, _("Monthly")
    QUARTERLY = 3, _("Quarterly")
    SEMIANNUAL = 6, _("Semi-annual")
    ANNUAL = 12, _("Annual")
    BIENNIAL = 24, _("Two years")
    TRIENNIAL = 36, _("Three years")


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")
    CANCELED = "canceled", _("Canceled")


# Statuses whose line items count towards current MRR.
REVENUE_STATUSES = (SubscriptionStatus.ACTIVE,)


class Subscription(TimeStampedModel):
    """One contract term of an account: a renewal is a new term that starts when this one ends."""

    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD", validators=[currency_code_validator])
    billing_period = models.PositiveSmallIntegerField(
        _("billing period"), choices=BillingPeriod.choices, default=BillingPeriod.ANNUAL
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True, help_text=_("Empty for an evergreen contract."))
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    # Derived from the line items by subscription_recompute_totals(); in the subscription currency.
    mrr = models.DecimalField(_("MRR"), max_digits=16, decimal_places=2, default=Decimal("0"))
    arr = models.DecimalField(_("ARR"), max_digits=16, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["account", "status"], name="subscription_account_idx"),
            models.Index(fields=["renewal_date"], name="subscription_renewal_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="subscription_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.start_date}–{self.end_date or '…'}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date must not be before the start date.")})


class SubscriptionItem(TimeStampedModel):
    """A line on a subscription: a plan or add-on, how many units, at what price per billing period."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="items")
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Price per unit per billing period."),
    )

    class Meta:
        verbose_name = _("line item")
        verbose_name_plural = _("line items")
        ordering = ["product__kind", "id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"

    @property
    def amount_per_period(self) -> Decimal:
        if not isinstance(self.unit_price, Decimal | int | float | str):
            return self.unit_price  # a price hidden by the reader's access rule hides the amount too
        return Decimal(self.quantity) * Decimal(self.unit_price)

    def mrr_exact(self, billing_period_months: int) -> Decimal:
        return monthly(self.amount_per_period, billing_period_months)

    def mrr(self, billing_period_months: int) -> Decimal:
        return to_cents(self.mrr_exact(billing_period_months))


class ExchangeRate(models.Model):
    """How many units of the reporting currency one unit of ``currency`` buys, from ``valid_from``."""

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code_validator])
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(
        _("rate to reporting currency"),
        max_digits=20,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} ({self.valid_from})"
