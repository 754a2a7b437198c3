"""Segment tracking-API messages: validate one message and normalise it for the inbox.

Pure functions, no database. The rules (documented in docs/ingestion.md):

* ``type`` is identify, group, track, page or screen (single calls take it from the path);
* ``userId`` or ``anonymousId`` is required (numbers are turned into strings);
* group needs ``groupId``, track needs ``event``;
* ``traits``, ``properties`` and ``context`` must be objects; a message is at most 32 KB;
* ``receivedAt`` is the arrival time; with ``sentAt`` (on the message or the batch) the
  timestamp is corrected for the client's clock: ``timestamp + (receivedAt - sentAt)``;
  without a timestamp it is ``receivedAt``; ``originalTimestamp`` keeps what was sent;
* a corrected timestamp more than one day after ``receivedAt`` or before 2000-01-01 is rejected.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from django.utils.translation import gettext as _

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_FUTURE = dt.timedelta(days=1)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TYPES = frozenset({"identify", "group", "track", "page", "screen"})
MAX_ID_LENGTH = 200
MAX_GROUP_ID_LENGTH = 100  # Account.external_id
MAX_EVENT_LENGTH = 200


@dataclass(frozen=True)
class Rejection:
    """Why one message of a call was refused: its position, id, the field at fault and the reason."""

    index: int
    message_id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "messageId": self.message_id, "field": self.field, "reason": self.reason}


class _Invalid(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason


def parse_time(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 string (``Z`` or an offset; none means UTC) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise _Invalid(field, _("must be an ISO 8601 date and time string."))
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(field, _("'%(value)s' is not an ISO 8601 date and time.") % {"value": value[:50]}) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _identifier(message: dict[str, Any], field: str) -> str | None:
    value = message.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(field, _("must be a string."))
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise _Invalid(field, _("is longer than %(max)d characters.") % {"max": MAX_ID_LENGTH})
    return text


def _object(message: dict[str, Any], field: str) -> dict[str, Any]:
    value = message.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(field, _("must be a JSON object."))
    return value


def _quantity(properties: dict[str, Any]) -> float:
    value = properties.get("quantity")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 1.0


def normalise(
    message: Any,
    *,
    index: int,
    received_at: dt.datetime,
    sent_at: dt.datetime | None = None,
    call_type: str | None = None,
    measure_size: bool = True,
) -> dict[str, Any] | Rejection:
    """One message as stored in the inbox, or the reason it is refused.

    ``sent_at`` is the batch's sentAt; a message's own sentAt wins. ``measure_size`` can be
    False when the whole body is smaller than the per-message limit.
    """
    if not isinstance(message, dict):
        return Rejection(index, None, "", _("a message must be a JSON object."))
    raw_id = message.get("messageId")
    message_id = str(raw_id)[:MAX_ID_LENGTH] if isinstance(raw_id, str | int) and raw_id != "" else None
    try:
        if measure_size and len(orjson.dumps(message)) > MAX_MESSAGE_BYTES:
            raise _Invalid("", _("the message is larger than 32 KB."))
        kind = call_type or message.get("type")
        if kind not in TYPES:
            if kind == "alias":
                raise _Invalid("type", _("alias calls are not supported; send identify with the new userId."))
            raise _Invalid("type", _("must be one of identify, group, track, page, screen."))
        if call_type and message.get("type") not in (None, call_type):
            raise _Invalid("type", _("does not match the endpoint /v1/%(type)s.") % {"type": call_type})
        if raw_id is not None and message_id is None:
            raise _Invalid("messageId", _("must be a non-empty string."))
        user_id = _identifier(message, "userId")
        anonymous_id = _identifier(message, "anonymousId")
        if user_id is None and anonymous_id is None:
            raise _Invalid("userId", _("userId or anonymousId is required."))
        context = _object(message, "context")
        traits = _object(message, "traits")
        properties = _object(message, "properties")
        group_id = _identifier(message, "groupId")
        if group_id is None:
            group_id = _identifier(context, "groupId")
        if group_id is None and kind == "identify":
            group_id = _identifier(traits, "groupId")
        if kind == "group" and group_id is None:
            raise _Invalid("groupId", _("a group call needs a groupId."))
        if group_id is not None and len(group_id) > MAX_GROUP_ID_LENGTH:
            # The groupId becomes the account's external_id, which has this length.
            raise _Invalid("groupId", _("is longer than %(max)d characters.") % {"max": MAX_GROUP_ID_LENGTH})
        event: str | None = None
        if kind == "track":
            event = message.get("event")
            if not isinstance(event, str) or not event.strip():
                raise _Invalid("event", _("a track call needs an event name."))
            event = event.strip()
            if len(event) > MAX_EVENT_LENGTH:
                raise _Invalid("event", _("is longer than %(max)d characters.") % {"max": MAX_EVENT_LENGTH})
        elif kind in ("page", "screen"):
            name = message.get("name")
            if name is not None and not isinstance(name, str):
                raise _Invalid("name", _("must be a string."))
            event = "Page Viewed" if kind == "page" else "Screen Viewed"
            if name:
                properties = {**properties, "name": name}
        original = message.get("timestamp")
        timestamp = parse_time(original, "timestamp") if original is not None else None
        if message.get("sentAt") is not None:
            sent_at = parse_time(message["sentAt"], "sentAt")
        if timestamp is None:
            ts = received_at
        elif sent_at is not None:
            ts = timestamp + (received_at - sent_at)
        else:
            ts = timestamp
        if ts > received_at + MAX_FUTURE:
            raise _Invalid("timestamp", _("is more than one day in the future (after clock-skew correction)."))
        if ts < EARLIEST:
            raise _Invalid("timestamp", _("is before the year 2000."))
    except _Invalid as invalid:
        return Rejection(index, message_id, invalid.field, invalid.reason)
    return {
        "type": kind,
        "messageId": message_id or str(uuid.uuid4()),
        "userId": user_id,
        "anonymousId": anonymous_id,
        "groupId": group_id,
        "event": event,
        "properties": properties,
        "traits": traits,
        "quantity": _quantity(properties) if kind == "track" else 1.0,
        "ts": ts.isoformat(),
        "originalTimestamp": original if isinstance(original, str) else None,
        "receivedAt": received_at.isoformat(),
    }
