"""The current churn-risk score of each account (one row per account, joined into the accounts list)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.risk.reasons import reason_texts


class AccountRisk(models.Model):
    """Calibrated probability that an account churns within the model's horizon, and why."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="risk")
    probability = models.FloatField(_("churn risk"))
    reasons = models.JSONField(default=list)
    as_of = models.DateField()
    model_version = models.CharField(max_length=40)

    class Meta:
        verbose_name = _("churn risk")
        verbose_name_plural = _("churn risk")
        indexes = [models.Index(fields=["probability", "account"], name="account_risk_prob_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.probability:.1%}"

    def reason_texts(self) -> list[str]:
        """The reasons as sentences in the active language."""
        return reason_texts(self.reasons)
