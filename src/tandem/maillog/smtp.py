"""The SMTP receiver `tandem mail serve` runs (aiosmtpd): it accepts mail for BCC addresses only.

Each accepted message is stored raw and its parsing queued for a worker in one transaction before
the receiver answers 250, so a message the sender saw accepted is never lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connections

from tandem.maillog.models import MailAddress, ReceivedVia


def _known_token(token: str) -> bool:
    try:
        return MailAddress.objects.filter(token=token, user__is_active=True).exists()
    finally:
        connections.close_all()  # this executor thread's connections: the pool thread may idle for long


def _store(raw: bytes, recipients: list[str]) -> int:
    from tandem.maillog.services import inbound_receive

    try:
        return inbound_receive(acting_user=None, raw=raw, recipients=recipients, via=ReceivedVia.SMTP).pk
    finally:
        connections.close_all()


class LoggingHandler:
    """aiosmtpd handler: RCPT TO only for a live BCC address, DATA stored for the worker."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        from tandem.maillog.selectors import token_of

        token = token_of(address)
        loop = asyncio.get_running_loop()
        if token is None or not await loop.run_in_executor(None, _known_token, token):
            return "550 5.1.1 No such BCC address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _store, raw, list(envelope.rcpt_tos))
        except Exception:
            return "451 4.3.0 Could not store the message, try again later"
        return "250 Message accepted for logging"


def start_receiver(host: str, port: int) -> Controller:
    """Start the receiver in a background thread (``controller.stop()`` ends it)."""
    server_kwargs: dict[str, Any] = {"data_size_limit": settings.TANDEM_MAIL_MAX_MESSAGE_BYTES}
    controller = Controller(
        LoggingHandler(), hostname=host, port=port, server_hostname=settings.TANDEM_MAIL_DOMAIN, **server_kwargs
    )
    controller.start()
    return controller
