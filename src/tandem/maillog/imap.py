"""IMAP polling (`tandem mail poll` and the worker job "maillog.poll"), with Python's imaplib.

Unseen messages of the configured folder are fetched, stored and parsed, then flagged \\Seen, so a
message is fetched once; even if it were fetched again, the Message-ID dedupe keeps it from landing twice.
"""

from __future__ import annotations

import contextlib
import imaplib

from django.conf import settings

from tandem.maillog.models import InboundMessage, ReceivedVia
from tandem.maillog.services import inbound_process


def _connect() -> imaplib.IMAP4:
    host, port = settings.TANDEM_MAIL_IMAP_HOST, settings.TANDEM_MAIL_IMAP_PORT
    client = imaplib.IMAP4_SSL(host, port) if settings.TANDEM_MAIL_IMAP_SSL else imaplib.IMAP4(host, port)
    client.login(settings.TANDEM_MAIL_IMAP_USER, settings.TANDEM_MAIL_IMAP_PASSWORD)
    return client


def poll_mailbox(*, limit: int = 200) -> int:
    """Fetch unseen mail from the IMAP folder; returns how many messages were read (0 when IMAP is not set)."""
    if not settings.TANDEM_MAIL_IMAP_HOST:
        return 0
    client = _connect()
    read = 0
    try:
        status, _data = client.select(settings.TANDEM_MAIL_IMAP_FOLDER)
        if status != "OK":
            raise RuntimeError(f"cannot open IMAP folder {settings.TANDEM_MAIL_IMAP_FOLDER!r}")
        status, found = client.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
        uids = found[0].split()[:limit] if status == "OK" and found and found[0] else []
        for uid in uids:
            status, parts = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), None)
            if status != "OK" or raw is None:
                continue
            inbound = InboundMessage.objects.create(raw=raw, recipients=[], received_via=ReceivedVia.IMAP)
            inbound_process(acting_user=None, inbound=inbound)
            client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
            read += 1
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return read
