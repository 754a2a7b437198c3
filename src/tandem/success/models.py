"""Success plans: the milestones a customer should reach, with due dates and owners."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


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

    class Meta:
        verbose_name = _("success milestone")
        verbose_name_plural = _("success milestones")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["account", "due_date"], name="milestone_account_idx"),
            models.Index(fields=["due_date"], condition=Q(completed_at__isnull=True), name="milestone_open_idx"),
        ]

    def __str__(self) -> str:
        return self.title
