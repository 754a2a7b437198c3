"""What leaves the system: mail over SMTP and posts to Slack-compatible incoming webhooks."""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from tandem.core.outbound import outbound_request


class DeliveryNotConfigured(Exception):
    """SMTP is not configured (TANDEM_SMTP_HOST is empty)."""


def smtp_configured() -> bool:
    return bool(settings.TANDEM_SMTP_HOST)


def send_mail_smtp(*, to: list[str], subject: str, body: str, message_id: str | None = None) -> str:
    """Send one plain-text mail through the configured SMTP server; returns its Message-ID."""
    if not smtp_configured():
        raise DeliveryNotConfigured("TANDEM_SMTP_HOST is not set")
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=settings.TANDEM_SMTP_HOST,
        port=settings.TANDEM_SMTP_PORT,
        username=settings.TANDEM_SMTP_USER or None,
        password=settings.TANDEM_SMTP_PASSWORD or None,
        use_tls=settings.TANDEM_SMTP_STARTTLS,
        timeout=30,
    )
    message_id = message_id or make_msgid(domain="tandem.local")
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.TANDEM_SMTP_FROM,
        to=to,
        headers={"Message-ID": message_id},
        connection=connection,
    )
    message.send(fail_silently=False)
    return message_id


class WebhookFailed(Exception):
    """The webhook answered with an error status."""


def post_webhook(*, url: str, text: str) -> int:
    """POST ``{"text": ...}`` (the Slack incoming-webhook shape) and return the HTTP status.

    Through the SSRF guard (tandem.core.outbound): a URL that now resolves to an internal address, or
    redirects to one, raises ``OutboundRefused``; an error status raises ``WebhookFailed``.
    """
    response = outbound_request(method="POST", url=url, json={"text": text})
    if response.status >= 400:
        raise WebhookFailed(f"HTTP {response.status} from {response.url}: {response.body[:200]!r}")
    return response.status
