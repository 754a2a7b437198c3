"""Accept one tracking call: authenticate the write key, parse, validate, store in the inbox.

Kept apart from the views so the request path is plain functions: it never touches DuckDB,
so a slow analytics query cannot hold up ingestion.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.ingest.inbox import Inbox
from tandem.ingest.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, Rejection, normalise, parse_time
from tandem.ingest.models import Source
from tandem.ingest.services import source_authenticate

MAX_BATCH_MESSAGES = 2500


class CallError(Exception):
    """The call as a whole is refused (status, machine code, message, optional field)."""

    def __init__(self, status: int, code: str, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


@dataclass
class CallResult:
    """How many messages were accepted and which were rejected."""

    accepted: int
    rejected: list[Rejection] = field(default_factory=list)


def write_key_from(authorization: str | None, body: dict[str, Any] | None) -> str:
    """Segment's HTTP Basic auth (the write key as the user name), or ``writeKey`` in the body."""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CallError(401, "unauthorized", _("The Authorization header is not valid Basic auth."), "") from None
        return decoded.split(":", 1)[0]
    if body is not None and isinstance(body.get("writeKey"), str):
        return body["writeKey"]
    return ""


def read_body(raw: bytes, *, encoding: str, limit: int) -> Any:
    """Decompress (gzip or deflate) and parse the JSON body, refusing more than ``limit`` bytes."""
    if encoding in ("gzip", "deflate"):
        try:
            decomp = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
            raw = decomp.decompress(raw, limit + 1)
        except (zlib.error, gzip.BadGzipFile):
            raise CallError(
                400, "malformed_body", _("The body is not valid %(enc)s data.") % {"enc": encoding}
            ) from None
    elif encoding not in ("", "identity"):
        raise CallError(415, "unsupported_encoding", _("Content-Encoding must be gzip, deflate or none."))
    if len(raw) > limit:
        raise CallError(413, "payload_too_large", _("The body is larger than %(kb)d KB.") % {"kb": limit // 1024})
    if not raw.strip():
        raise CallError(400, "malformed_body", _("The body is empty; send a JSON object."))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CallError(400, "malformed_json", _("The body is not valid JSON: %(error)s") % {"error": exc}) from None
    if not isinstance(body, dict):
        raise CallError(400, "malformed_body", _("The body must be a JSON object."))
    return body


def accept_call(
    *, call_type: str, raw: bytes, encoding: str, authorization: str | None, inbox: Inbox | None = None
) -> CallResult:
    """Validate a call (``batch`` or a single message type) and store its valid messages.

    Raises CallError when the call as a whole is refused; nothing is stored then. When only
    some messages are invalid, the others are stored and the result lists the rejected ones.
    """
    limit = MAX_BATCH_BYTES if call_type == "batch" else MAX_MESSAGE_BYTES
    received_at = timezone.now()
    early_key = write_key_from(authorization, None) if authorization else ""
    source = _source(early_key) if early_key else None
    body = read_body(raw, encoding=encoding, limit=limit)
    if source is None:
        source = _source(write_key_from(None, body))
    if source is None:
        raise CallError(401, "unauthorized", _("Unknown or revoked write key."), "")

    if call_type == "batch":
        items = body.get("batch")
        if not isinstance(items, list):
            raise CallError(400, "malformed_body", _("A batch needs a 'batch' list of messages."), "batch")
        if len(items) > MAX_BATCH_MESSAGES:
            raise CallError(
                413, "payload_too_large", _("A batch holds at most %(n)d messages.") % {"n": MAX_BATCH_MESSAGES}
            )
        sent_at = None
        if body.get("sentAt") is not None:
            try:
                sent_at = parse_time(body["sentAt"], "sentAt")
            except Exception:
                raise CallError(
                    400, "malformed_body", _("sentAt is not an ISO 8601 date and time."), "sentAt"
                ) from None
        measure = len(raw) > MAX_MESSAGE_BYTES
        outcomes = [
            normalise(m, index=i, received_at=received_at, sent_at=sent_at, measure_size=measure)
            for i, m in enumerate(items)
        ]
    else:
        outcomes = [normalise(body, index=0, received_at=received_at, call_type=call_type, measure_size=False)]

    accepted = [o for o in outcomes if isinstance(o, dict)]
    rejected = [o for o in outcomes if isinstance(o, Rejection)]
    if accepted or rejected:
        (inbox or Inbox.for_settings()).append(
            source_id=source.pk,
            received_at=received_at,
            messages=accepted,
            rejections=[r.as_dict() for r in rejected],
        )
    return CallResult(accepted=len(accepted), rejected=rejected)


def _source(key: str) -> Source | None:
    return source_authenticate(key=key) if key else None
