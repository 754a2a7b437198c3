"""Outbound webhooks: endpoints an admin subscribes to domain events, and every delivery attempt.

Events are the audit history's entries seen from outside: each change a write service records
(an account updated, a CTA closed, an opportunity won) becomes an event of a type such as
``cta.closed``. The entry ids of committed changes wait in ``OutboxItem`` (written in the same
transaction as the change, so an event is neither lost nor sent for a change that rolled back)
until a worker fans them out into one ``Delivery`` per subscribed endpoint.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


class EndpointKind(models.TextChoices):
    STANDARD = "standard", _("Signed webhook (Standard Webhooks)")
    SLACK = "slack", _("Slack-compatible incoming webhook")


class Endpoint(TimeStampedModel):
    """A URL that receives the chosen event types; Slack endpoints get a readable message instead of JSON."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=EndpointKind.choices, default=EndpointKind.STANDARD)
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Leave empty to receive every event type.")
    )
    # "whsec_" + base64 of 24 random bytes, the Standard Webhooks secret format.
    secret = models.CharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class OutboxItem(models.Model):
    """Audit entries committed but not yet fanned out to endpoints."""

    entry_id = models.BigIntegerField(null=True)
    # A bulk write's entries, found by what they share (see tandem.audit.services._insert_entries).
    content_type_id = models.IntegerField(null=True)
    timestamp = models.DateTimeField(null=True)
    object_ids = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"entry {self.entry_id}" if self.entry_id else f"{len(self.object_ids or [])} bulk entries"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One event for one endpoint, with the outcome of its latest attempt."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(_("message id"), max_length=64)  # the webhook-id header: stable across retries
    event_type = models.CharField(_("event type"), max_length=60)
    payload = models.JSONField(_("payload"))
    account_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "message_id"], name="webhook_delivery_once_per_endpoint")
        ]
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_recent")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
