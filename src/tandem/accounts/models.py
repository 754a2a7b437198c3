"""Customer accounts and the people at them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from tandem.core.models import TimeStampedModel
from tandem.core.money import currency_code_validator


class Tier(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    MID_MARKET = "mid_market", _("Mid-market")
    SMB = "smb", _("SMB")


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", pgettext_lazy("lifecycle stage", "Onboarding")
    ADOPTION = "adoption", _("Adoption")
    MATURE = "mature", _("Mature")
    CHURNED = "churned", _("Churned")


def live_account_q(path: str = "account") -> models.Q:
    """Rows whose account (reached through ``path``; ``""`` for accounts themselves) is not archived.

    Archived accounts are no longer worked: every list of daily work (queues, renewals, the pipeline,
    the forecast's open amounts, the home page, the health portfolio) reads through this filter,
    while history (closed CTAs, won and lost deals, revenue and retention) keeps them.
    """
    return models.Q(**{f"{path}__archived_at__isnull" if path else "archived_at__isnull": True})


class AccountQuerySet(models.QuerySet["Account"]):
    def live(self) -> AccountQuerySet:
        """Accounts still worked: not archived (see :func:`live_account_q`)."""
        return self.filter(live_account_q(""))

    def archived(self) -> AccountQuerySet:
        return self.filter(archived_at__isnull=False)

    def by_archived(self, archived: str | None) -> AccountQuerySet:
        """The accounts list's and the API's ``archived`` filter: live ones unless ``archived``
        (archived only) or ``all`` (both) is asked for."""
        if archived == "archived":
            return self.archived()
        if archived == "all":
            return self
        return self.live()


class Account(TimeStampedModel):
    """A customer company. ``mrr``/``arr``/``renewal_date`` are denormalised from its subscriptions."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=253, blank=True)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Your own identifier for the account; imports upsert on it."),
    )
    crm_id = models.CharField(_("CRM id"), max_length=100, null=True, blank=True, unique=True)
    billing_id = models.CharField(_("billing id"), max_length=100, null=True, blank=True, unique=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD", validators=[currency_code_validator])
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.SMB)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.ONBOARDING,
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    csm_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("CSM"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="csm_accounts",
    )
    am_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="am_accounts",
    )
    start_date = models.DateField(_("customer since"), null=True, blank=True)
    # The company's own fields (tandem.traits): {key: value}, typed by each TraitDefinition.
    traits = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Denormalised from active subscriptions in the reporting currency, so the accounts list
    # can sort and filter 100,000 accounts without aggregating subscriptions per request.
    mrr = models.DecimalField(
        _("MRR"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    arr = models.DecimalField(
        _("ARR"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    # Set when the account is archived (no longer worked: a lost prospect, a merged duplicate...):
    # lists and the account picker hide it unless asked; its history stays.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name", "id"]
        indexes = [
            models.Index(Lower("name"), "id", name="account_lower_name_idx"),
            models.Index(fields=["name", "id"], name="account_name_idx"),
            models.Index(fields=["arr", "id"], name="account_arr_idx"),
            models.Index(fields=["renewal_date", "id"], name="account_renewal_idx"),
            models.Index(fields=["tier", "name"], name="account_tier_idx"),
            models.Index(fields=["lifecycle_stage", "name"], name="account_stage_idx"),
            models.Index(fields=["country", "name"], name="account_country_idx"),
            models.Index(fields=["csm_owner", "name"], name="account_csm_idx"),
            models.Index(fields=["am_owner", "name"], name="account_am_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="account_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent_id and self.pk and self._parent_chain_contains(self.pk):
            raise ValidationError({"parent": _("An account cannot be its own ancestor.")})

    def _parent_chain_contains(self, account_id: int) -> bool:
        seen: set[int] = set()
        current_id = self.parent_id
        while current_id and current_id not in seen:
            if current_id == account_id:
                return True
            seen.add(current_id)
            current_id = Account.objects.filter(pk=current_id).values_list("parent_id", flat=True).first()
        return False


class StakeholderRole(models.TextChoices):
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
    CHAMPION = "champion", _("Champion")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    ADMIN = "admin", pgettext_lazy("stakeholder role", "Admin")
    END_USER = "end_user", _("End user")
    BILLING = "billing", _("Billing")


class Contact(TimeStampedModel):
    """A person at a customer account."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    still_at_company = models.BooleanField(_("still at company"), default=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    traits = models.JSONField(_("custom fields"), default=dict, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of what Tandem shows this person (a shared success plan); the company's when empty."),
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(is_primary=True),
                name="contact_one_primary_per_account",
            ),
            models.UniqueConstraint(
                fields=["account", "email"],
                condition=~models.Q(email=""),
                name="contact_unique_email_per_account",
            ),
        ]
        indexes = [models.Index(fields=["email"], name="contact_email_idx")]

    def __str__(self) -> str:
        return self.full_name or self.email or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not (self.first_name or self.last_name or self.email):
            raise ValidationError(_("A contact needs a name or an email address."))
        if self.left_on and self.still_at_company:
            raise ValidationError({"left_on": _("A contact who left cannot still be at the company.")})


class ContactRole(models.Model):
    """One stakeholder role a contact plays in their account (a contact may have several)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=30, choices=StakeholderRole.choices)

    class Meta:
        verbose_name = _("stakeholder role")
        verbose_name_plural = _("stakeholder roles")
        constraints = [models.UniqueConstraint(fields=["contact", "role"], name="contact_role_unique")]
        indexes = [models.Index(fields=["role", "contact"], name="contactrole_role_idx")]

    def __str__(self) -> str:
        return f"{self.contact}: {self.get_role_display()}"
