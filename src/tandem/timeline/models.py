"""The timeline: every interaction anyone had with an account, and everything that happened to it.

Two kinds of rows make one timeline (``selectors.timeline_page`` merges them in date order):

* ``Interaction``: a conversation or note people wrote (calls, emails, meetings, notes), editable,
  with the colleagues and contacts involved, attachments and pinning;
* ``TimelineEvent``: a fact another app recorded through its own services when it happened (a CTA
  opened or closed, a milestone reached, a survey answered, a stage or health band change, a ticket
  opened or solved, a contract or opportunity change, a meeting scheduled, a comment posted). Events
  are written once and never edited; the object they describe keeps its own history.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import Storage, storages
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
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
    # A note written on a call to action: it shows on the CTA and on the account's timeline.
    cta = models.ForeignKey(
        "playbooks.CallToAction",
        verbose_name=_("call to action"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notes",
    )
    # Pinned entries stay at the top of the account's timeline.
    pinned_at = models.DateTimeField(_("pinned"), null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pinned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the subject or the text changed after it was logged; the audit history has each version.
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="interaction_account_idx")]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


def attachment_storage() -> Storage:
    return storages["attachments"]


class InteractionAttachment(models.Model):
    """A file attached to a note or an interaction (size and type checked when it is added)."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("interaction")
    )
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    file = models.FileField(_("file"), upload_to="timeline/%Y/%m/", storage=attachment_storage, max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CTA_OPENED = "cta_opened", _("Call to action opened")
    CTA_CLOSED = "cta_closed", _("Call to action closed")
    TASK_DONE = "task_done", _("Task done")
    EMAIL_SENT = "email_sent", _("Email sent")
    MILESTONE_REACHED = "milestone_reached", _("Milestone reached")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    STAGE_CHANGED = "stage_changed", _("Lifecycle stage changed")
    HEALTH_CHANGED = "health_changed", _("Health band changed")
    TICKET_OPENED = "ticket_opened", _("Ticket opened")
    TICKET_SOLVED = "ticket_solved", _("Ticket solved")
    CONTRACT_CHANGED = "contract_changed", _("Contract changed")
    OPPORTUNITY_OPENED = "opportunity_opened", _("Opportunity opened")
    OPPORTUNITY_CHANGED = "opportunity_changed", _("Opportunity changed")
    OPPORTUNITY_WON = "opportunity_won", _("Opportunity won")
    OPPORTUNITY_LOST = "opportunity_lost", _("Opportunity lost")
    MEETING_SCHEDULED = "meeting_scheduled", _("Meeting scheduled")
    MEETING_CANCELLED = "meeting_cancelled", _("Meeting cancelled")
    COMMENT = "comment", _("Comment")
    PLAN_SHARED = "plan_shared", _("Success plan shared")
    PLAN_COMMENT = "plan_comment", _("Customer's comment on the success plan")


class TimelineEvent(models.Model):
    """Something that happened to an account (or one of its contacts), recorded by the owning app.

    ``data`` holds what the entry shows (titles, before and after values) so the timeline never
    joins every app's tables; amounts in it are masked for readers who may not see contract values.
    ``target`` is the object the entry links to (a CTA, a ticket, an opportunity...).
    """

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="timeline_events"
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="timeline_events",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"], name="event_account_idx"),
            models.Index(fields=["contact", "-occurred_at", "-id"], name="event_contact_idx"),
            models.Index(fields=["target_type", "target_id"], name="event_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.occurred_at:%Y-%m-%d})"
