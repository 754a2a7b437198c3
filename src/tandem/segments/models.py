"""Segments: groups of accounts defined by conditions (fields, custom fields, metrics, health, risk),
kept current by the daily pipeline, with the history of who joined and left and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel
from tandem.success.models import ServiceModel


class Segment(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    # The rules' condition format (tandem.playbooks.rules.conditions): every condition must hold.
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    service_model = models.CharField(
        _("service model"),
        max_length=20,
        choices=ServiceModel.choices,
        blank=True,
        help_text=_("How the accounts in this segment are served: high, low or tech touch."),
    )
    members = models.PositiveIntegerField(_("accounts"), default=0, editable=False)
    refreshed_on = models.DateField(_("refreshed"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """An account's stay in a segment: from the day it met the conditions to the day it stopped."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="segment_memberships")
    joined_on = models.DateField(_("joined"))
    left_on = models.DateField(_("left"), null=True, blank=True)

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        ordering = ["-joined_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "account"], condition=Q(left_on__isnull=True), name="segment_one_open_membership"
            )
        ]
        indexes = [models.Index(fields=["account", "left_on"], name="membership_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.segment_id}"
