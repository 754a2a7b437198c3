"""Meetings with customers and colleagues, the calendar feed of each user and their CalDAV calendar."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class MeetingKind(models.TextChoices):
    QBR = "qbr", _("QBR")
    CHECK_IN = "check_in", _("Monthly check-in")
    ONBOARDING = "onboarding", _("Onboarding session")
    EBR = "ebr", _("Executive business review")
    INTERNAL = "internal", _("Internal CSM/AM sync")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(TimeStampedModel):
    """A meeting on an account. ``uid`` is the iCalendar UID (stable); ``sequence`` grows on every change."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="meetings"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices, default=MeetingKind.CHECK_IN)
    title = models.CharField(_("title"), max_length=300)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    location = models.CharField(_("location"), max_length=300, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organizer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organized_meetings",
    )
    contacts = models.ManyToManyField(
        "accounts.Contact", verbose_name=_("contacts"), blank=True, related_name="meetings"
    )
    colleagues = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("colleagues"), blank=True, related_name="meetings"
    )
    uid = models.CharField(_("calendar UID"), max_length=200, unique=True)
    sequence = models.PositiveIntegerField(_("revision"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    interaction = models.OneToOneField(
        "timeline.Interaction",
        verbose_name=_("notes on the timeline"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting",
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["account", "starts_at"], name="meeting_account_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED


class CalendarFeed(models.Model):
    """A user's private iCalendar feed: whoever knows the token reads it; rotating it revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"feed of {self.user}"


class CalDavSettings(models.Model):
    """Where a user's CalDAV calendar lives. The password is encrypted with a key derived from SECRET_KEY."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="caldav_settings"
    )
    url = models.URLField(_("calendar URL"), max_length=500)
    username = models.CharField(_("user name"), max_length=200, blank=True)
    password_encrypted = models.TextField(_("password"), blank=True)
    enabled = models.BooleanField(_("sync enabled"), default=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("CalDAV settings")
        verbose_name_plural = _("CalDAV settings")

    def __str__(self) -> str:
        return self.url


class CalDavEvent(models.Model):
    """What a meeting looks like on one user's CalDAV server: its URL, the ETag and SEQUENCE last seen."""

    calendar = models.ForeignKey(CalDavSettings, on_delete=models.CASCADE, related_name="events")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="caldav_events")
    href = models.CharField(max_length=1000)
    etag = models.CharField(max_length=200, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["calendar", "meeting"], name="caldav_event_unique")]

    def __str__(self) -> str:
        return self.href
