"""Support tickets raised by customers, usually synced from a helpdesk."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


OPEN_TICKET_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class Ticket(TimeStampedModel):
    """A support ticket of an account. ``satisfaction`` is the customer's 1-5 CSAT rating."""

    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    priority = models.CharField(
        _("priority"), max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-opened_at"], name="ticket_account_idx"),
            # The home page lists the most recent open tickets across a portfolio.
            models.Index(fields=["status", "-opened_at"], name="ticket_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(closed_at__gte=models.F("opened_at")),
                name="ticket_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True) | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_range",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TICKET_STATUSES

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.closed_at and self.opened_at and self.closed_at < self.opened_at:
            raise ValidationError({"closed_at": _("A ticket cannot close before it opened.")})
