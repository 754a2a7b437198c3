"""In-app notifications, how each user wants them delivered, and the daily digests sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tandem.core.outbound import outbound_url_validate
from tandem.notifications.messages import render_stored


class Notification(models.Model):
    """A message to one user (in the bell menu); also mailed or posted to Slack per their preferences."""

    # No index of its own: the unique (user, key) constraint's index leads with user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    # Unique per user: sending the same notification twice (a retried job) adds nothing.
    key = models.CharField(_("key"), max_length=200)
    # The title and body rendered in the default language when created; ``title_message`` and
    # ``body_message`` keep the msgid and parameters to render them in the reader's language
    # (see messages.py). Empty for texts that are not translatable.
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    title_message = models.JSONField(default=dict, blank=True)
    body_message = models.JSONField(default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    slack_sent_at = models.DateTimeField(_("posted to Slack"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_user_key_unique")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the active language."""
        return render_stored(self.title_message, self.title)

    @property
    def display_body(self) -> str:
        return render_stored(self.body_message, self.body)


class NotificationPreference(models.Model):
    """Where one user's notifications go besides the bell: email, a Slack incoming webhook, a daily digest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(_("email each notification"), default=False)
    slack_webhook_url = models.URLField(
        _("Slack webhook URL"),
        max_length=500,
        blank=True,
        help_text=_("A Slack-compatible incoming webhook; notifications are posted there."),
        # Checked again by the worker before each post (DNS may have changed since).
        validators=[outbound_url_validate],
    )
    daily_digest = models.BooleanField(_("daily digest email"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class DigestLog(models.Model):
    """That a user's daily digest for a day went out (unique: a day's digest is sent at most once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    items = models.PositiveIntegerField(_("items"), default=0)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_user_day_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.day}"
