"""Customer survey answers: Net Promoter Score responses."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel

DETRACTOR_MAX = 6
PROMOTER_MIN = 9


class NpsResponse(TimeStampedModel):
    """One answer to "How likely are you to recommend us?" (0-10) from a contact of an account."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="nps_responses"
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="nps_responses",
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True)
    responded_at = models.DateTimeField(_("responded"))

    class Meta:
        verbose_name = _("NPS response")
        verbose_name_plural = _("NPS responses")
        ordering = ["-responded_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-responded_at"], name="nps_account_idx"),
            models.Index(fields=["responded_at", "score"], name="nps_responded_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=10), name="nps_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.score}"

    @property
    def category(self) -> str:
        if self.score <= DETRACTOR_MAX:
            return "detractor"
        return "promoter" if self.score >= PROMOTER_MIN else "passive"
