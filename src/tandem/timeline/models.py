"""The timeline: every interaction anyone had with an account."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    QBR = "qbr", _("QBR")
    ONBOARDING = "onboarding", _("Onboarding session")
    NOTE = "note", _("Note")


class Interaction(TimeStampedModel):
    """A call, email, meeting, QBR, onboarding session or note on an account's timeline."""

    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team members"),
        blank=True,
        related_name="interactions",
    )
    contacts = models.ManyToManyField(
        "accounts.Contact", verbose_name=_("contacts"), blank=True, related_name="interactions"
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="interaction_account_idx")]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()
