"""Parse a raw message with Python's ``email`` package (policy=default) into what Tandem stores."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from django.utils import timezone

# What an attachment may be; anything else is left out (and noted on the message).
ALLOWED_CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "text/plain",
        "text/csv",
        "text/calendar",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
    }
)


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    subject: str
    sent_at: dt.datetime
    text: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    dedupe_key: str = ""


def _addresses(msg: EmailMessage, *names: str) -> list[tuple[str, str]]:
    values: list[str] = []
    for name in names:
        values.extend(str(v) for v in msg.get_all(name, []))
    return [(n, a.strip().lower()) for n, a in getaddresses(values) if a and "@" in a]


_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """Text of an HTML body: nh3 drops every tag (and the content of script and style), then entities are decoded."""
    marked = _BLOCK.sub("\n", markup)
    cleaned = nh3.clean(marked, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    text = html.unescape(cleaned)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content.strip()


def _date(msg: EmailMessage) -> dt.datetime:
    raw = msg.get("Date")
    if raw:
        try:
            value = parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            value = None
        if value is not None:
            return value if value.tzinfo else timezone.make_aware(value, dt.UTC)
    return timezone.now()


def _attachments(msg: EmailMessage, *, max_bytes: int) -> tuple[list[ParsedAttachment], list[dict[str, str]]]:
    kept: list[ParsedAttachment] = []
    skipped: list[dict[str, str]] = []
    for part in msg.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        filename = (part.get_filename() or "").replace("/", "_").replace("\\", "_").strip()[:200] or "attachment"
        declared = part.get_content_type()
        guessed = mimetypes.guess_type(filename)[0]
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if declared not in ALLOWED_CONTENT_TYPES or (guessed is not None and guessed not in ALLOWED_CONTENT_TYPES):
            skipped.append({"filename": filename, "reason": "type", "content_type": declared})
        elif len(content) > max_bytes:
            skipped.append({"filename": filename, "reason": "size", "content_type": declared})
        else:
            kept.append(ParsedAttachment(filename, declared, content))
    return kept, skipped


def parse_message(raw: bytes, *, max_attachment_bytes: int) -> ParsedEmail:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    message_id = str(msg.get("Message-ID", "") or "").strip()
    attachments, skipped = _attachments(msg, max_bytes=max_attachment_bytes)
    parsed = ParsedEmail(
        message_id=message_id[:998],
        from_address=from_address[:320],
        from_name=from_name[:200],
        to=[a for _n, a in _addresses(msg, "To")],
        cc=[a for _n, a in _addresses(msg, "Cc")],
        delivered_to=[a for _n, a in _addresses(msg, "Bcc", "Delivered-To", "X-Original-To", "Envelope-To")],
        subject=str(msg.get("Subject", "") or "").strip()[:998],
        sent_at=_date(msg),
        text=_body(msg),
        attachments=attachments,
        skipped=skipped,
    )
    parsed.dedupe_key = dedupe_key(parsed, raw_headers=msg)
    return parsed


def dedupe_key(parsed: ParsedEmail, *, raw_headers: EmailMessage) -> str:
    """The Message-ID (normalised); without one, a hash of the main headers and the body."""
    mid = parsed.message_id.strip().strip("<>").strip().lower()
    if mid:
        return "mid:" + mid[:290]
    digest = hashlib.sha256()
    for name in ("From", "To", "Cc", "Subject", "Date"):
        digest.update(f"{name}:{raw_headers.get(name, '')}\n".encode("utf-8", "replace"))
    digest.update(parsed.text.encode("utf-8", "replace"))
    for attachment in parsed.attachments:
        digest.update(hashlib.sha256(attachment.content).digest())
    return "sha256:" + digest.hexdigest()
