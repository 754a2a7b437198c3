"""Logged email: each user's BCC address, the messages it received, and their attachments.

A message sent to a user's BCC address is kept whole here (``LoggedEmail``, with its attachments);
once it belongs to an account it also gets an entry on the account's timeline (a
``timeline.Interaction`` of kind email that links back to it). Messages that match no account wait,
unassigned, until someone assigns them. ``InboundMessage`` is the raw receipt the SMTP receiver or
IMAP poll stores before a worker parses it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from tandem.core.models import TimeStampedModel


def attachment_storage() -> Storage:
    return storages["maillog"]


class MailAddress(TimeStampedModel):
    """A user's personal BCC address: log+<token>@TANDEM_MAIL_DOMAIN (rotating the token retires the old one)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_address", verbose_name=_("user")
    )
    token = models.CharField(_("token"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("BCC address")
        verbose_name_plural = _("BCC addresses")

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{settings.TANDEM_MAIL_LOCAL_PART}+{self.token}@{settings.TANDEM_MAIL_DOMAIN}"


class Direction(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


class ReceivedVia(models.TextChoices):
    SMTP = "smtp", _("SMTP receiver")
    IMAP = "imap", _("IMAP mailbox")


class LoggedEmail(models.Model):
    """One message a user logged, whole; on an account's timeline once assigned."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logged_emails", verbose_name=_("logged by")
    )
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="logged_emails",
        verbose_name=_("account"),
    )
    interaction = models.OneToOneField(
        "timeline.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="logged_email",
        verbose_name=_("timeline entry"),
    )
    contacts = models.ManyToManyField(
        "accounts.Contact", blank=True, related_name="logged_emails", verbose_name=_("contacts")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    # The Message-ID, or a hash of the headers and body when there is none: a message lands once per user.
    dedupe_key = models.CharField(max_length=300)
    from_address = models.CharField(_("from"), max_length=320)
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    to_addresses = models.JSONField(_("to"), default=list, blank=True)
    cc_addresses = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    sent_at = models.DateTimeField(_("date"))
    text_body = models.TextField(_("text"), blank=True)
    skipped_attachments = models.JSONField(default=list, blank=True)
    received_via = models.CharField(_("received via"), max_length=4, choices=ReceivedVia.choices)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)

    class Meta:
        verbose_name = _("logged email")
        verbose_name_plural = _("logged emails")
        ordering = ["-sent_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="logged_email_once_per_user")]
        indexes = [
            models.Index(fields=["account", "-sent_at"], name="logged_email_account_idx"),
            models.Index(fields=["user", "-sent_at"], name="logged_email_user_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.from_address

    def recipients(self) -> list[Any]:
        return [*self.to_addresses, *self.cc_addresses]


class MailAttachment(models.Model):
    email = models.ForeignKey(
        LoggedEmail, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("email")
    )
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", storage=attachment_storage, max_length=300)

    class Meta:
        verbose_name = _("email attachment")
        verbose_name_plural = _("email attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class InboundMessage(models.Model):
    """Raw mail as received, until a worker has parsed it (a queue, like the job table: not audited)."""

    raw = models.BinaryField()
    recipients = models.JSONField(default=list)
    received_via = models.CharField(max_length=4, choices=ReceivedVia.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"inbound {self.pk} ({self.outcome or 'pending'})"
