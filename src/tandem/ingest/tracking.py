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
from http import HTTPStatus
from typing import Any

import orjson
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.ingest.inbox import Inbox
from tandem.ingest.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, Rejection, normalise, parse_time
from tandem.ingest.services import write_keys

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


def _too_large(limit: int) -> CallError:
    return CallError(413, "payload_too_large", _("The body is larger than %(kb)d KB.") % {"kb": limit // 1024})


def body_too_large(limit: int) -> TrackingResponse:
    """The answer to a body over ``limit`` bytes, given without reading it."""
    error = _too_large(limit)
    return _problem(error.status, error.code, error.message, field=error.field)


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
        raise _too_large(limit)
    if not raw.strip():
        raise CallError(400, "malformed_body", _("The body is empty; send a JSON object."))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CallError(400, "malformed_json", _("The body is not valid JSON: %(error)s") % {"error": exc}) from None
    if not isinstance(body, dict):
        raise CallError(400, "malformed_body", _("The body must be a JSON object."))
    return body


PROBLEM_TYPE = "urn:tandem:problem:"
CALL_TYPES = frozenset({"identify", "group", "track", "page", "screen", "batch", "import"})


@dataclass(frozen=True)
class TrackingResponse:
    """What to answer a tracking call: status, JSON body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _problem(
    status: int, code: str, message: str, *, field: str = "", extra: dict[str, Any] | None = None
) -> TrackingResponse:
    """A problem-details body that Segment clients can read too (they look at code and message)."""
    body = {
        "type": PROBLEM_TYPE + code.replace("_", "-"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "errors": [{"field": field, "message": message}] if field else [],
        "success": False,
        "code": code,
        "message": message,
        **(extra or {}),
    }
    headers = (("WWW-Authenticate", 'Basic realm="tandem tracking"'),) if status == 401 else ()
    return TrackingResponse(status, orjson.dumps(body), "application/problem+json", headers)


def tracking_response(
    *, call_type: str, method: str, raw: bytes, encoding: str, authorization: str | None
) -> TrackingResponse:
    """Answer one call to /v1/<call_type>: accept it (durably) or say precisely why not."""
    if call_type not in CALL_TYPES:
        return _problem(404, "not_found", _("No tracking endpoint /v1/%(call)s.") % {"call": call_type[:50]})
    if method != "POST":
        return _problem(405, "method_not_allowed", _("Use POST."))
    try:
        result = accept_call(
            call_type="batch" if call_type == "import" else call_type,
            raw=raw,
            encoding=encoding.strip().lower(),
            authorization=authorization,
        )
    except CallError as exc:
        return _problem(exc.status, exc.code, exc.message, field=exc.field)
    rejected = [r.as_dict() for r in result.rejected]
    if result.accepted:
        from tandem.ingest.ingestor import wake_ingestor

        wake_ingestor()
        return TrackingResponse(200, orjson.dumps({"success": True, "accepted": result.accepted, "rejected": rejected}))
    first = result.rejected[0]
    return _problem(
        400,
        "invalid_message",
        _("No message was accepted: %(reason)s") % {"reason": f"{first.field or 'message'} {first.reason}"},
        field=first.field or "body",
        extra={"accepted": 0, "rejected": rejected},
    )


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
    source_id = write_keys.source_id(early_key) if early_key else None
    body = read_body(raw, encoding=encoding, limit=limit)
    if source_id is None:
        source_id = write_keys.source_id(write_key_from(None, body))
    if source_id is None:
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
            source_id=source_id,
            received_at=received_at,
            messages=accepted,
            rejections=[r.as_dict() for r in rejected],
        )
    return CallResult(accepted=len(accepted), rejected=rejected)
