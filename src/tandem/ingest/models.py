"""Event sources (write keys), the users the tracking API has seen, and recent rejections."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class Source(TimeStampedModel):
    """Where events come from (an app, a backend, a billing system); holds one write key.

    Only a SHA-256 of the key is stored; ``key_prefix`` identifies it in lists. Counters are
    maintained by the ingestor when it drains the inbox, not by the request itself.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_prefix = models.CharField(_("key prefix"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True)
    received_count = models.BigIntegerField(_("messages accepted"), default=0)
    rejected_count = models.BigIntegerField(_("messages rejected"), default=0)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TrackedUser(TimeStampedModel):
    """A userId seen by the tracking API: the account it belongs to (from group calls or a
    groupId) and its latest identify traits, kept until the account is known."""

    user_id = models.CharField(_("user id"), max_length=200, unique=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="tracked_users"
    )
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tracked_users"
    )
    traits = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("tracked user")
        verbose_name_plural = _("tracked users")

    def __str__(self) -> str:
        return self.user_id


class Rejection(models.Model):
    """One message the tracking API refused, kept (the latest few per source) to show why."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="rejections")
    received_at = models.DateTimeField(_("received"), db_index=True)
    message_id = models.CharField(_("message id"), max_length=200, blank=True)
    field = models.CharField(_("field"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=500)

    class Meta:
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["source", "-received_at"], name="rejection_source_idx")]

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


class PendingEvent(models.Model):
    """A tracked event whose account is not known yet: stored as soon as a group or identify call names it."""

    source_id = models.BigIntegerField(null=True)
    message_id = models.CharField(max_length=200, null=True)
    dedupe_key = models.BigIntegerField(unique=True)
    user_id = models.CharField(max_length=200, null=True)
    anonymous_id = models.CharField(max_length=200, null=True)
    group_id = models.CharField(max_length=200, null=True)
    event = models.CharField(max_length=200)
    ts = models.DateTimeField()
    quantity = models.FloatField(default=1.0)
    properties = models.TextField(null=True)
    received_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("event waiting for its account")
        verbose_name_plural = _("events waiting for their account")
        indexes = [models.Index(fields=["user_id", "group_id"], name="ingest_pending_user_group")]

    def __str__(self) -> str:
        return f"{self.event} ({self.user_id or self.anonymous_id})"
