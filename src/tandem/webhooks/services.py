"""Writes on webhook endpoints, the fan-out of committed changes into deliveries, and delivery itself."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import requests
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from tandem.audit.context import write_service
from tandem.audit.models import AuditEntry
from tandem.core.errors import DomainError, FieldError
from tandem.core.outbound import OutboundRefused, outbound_request, outbound_url_check
from tandem.core.services import model_save, model_validate
from tandem.jobs.services import job_enqueue
from tandem.webhooks.events import EVENT_TYPES, Event, events_for
from tandem.webhooks.models import Delivery, DeliveryStatus, Endpoint, EndpointKind, OutboxItem
from tandem.webhooks.outbox import forget_active

if TYPE_CHECKING:
    from tandem.users.models import User

# Seconds to wait before each retry after a failed attempt (the schedule Standard Webhooks
# senders commonly use): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery has failed.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISPATCH_BATCH = 500


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise DomainError(
            _("Invalid webhook endpoint."),
            [
                FieldError(
                    "event_types",
                    _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)},
                )
            ],
        )
    return chosen


def _save_endpoint(endpoint: Endpoint) -> Endpoint:
    message = _("Invalid webhook endpoint.")
    extra: list[FieldError] = []
    try:
        outbound_url_check(endpoint.url)
    except OutboundRefused as exc:
        extra.append(FieldError("url", exc.message))
    model_validate(endpoint, message=message, extra_errors=extra)
    model_save(endpoint, message=message)
    transaction.on_commit(forget_active)
    forget_active()
    return endpoint


@write_service
def endpoint_create(
    *,
    acting_user: User | None,
    name: str,
    url: str,
    kind: str = EndpointKind.STANDARD,
    event_types: Sequence[str] = (),
    is_active: bool = True,
) -> Endpoint:
    """Subscribe a URL to event types (none: every type). Internal addresses are refused (SSRF guard)."""
    endpoint = Endpoint(
        name=name.strip(),
        url=url.strip(),
        kind=kind,
        event_types=_clean_event_types(event_types),
        is_active=is_active,
        secret=new_secret(),
        created_by=acting_user,
    )
    return _save_endpoint(endpoint)


@write_service
def endpoint_update(
    *,
    acting_user: User | None,
    endpoint: Endpoint,
    name: str,
    url: str,
    kind: str,
    event_types: Sequence[str],
    is_active: bool,
) -> Endpoint:
    endpoint.name, endpoint.url, endpoint.kind = name.strip(), url.strip(), kind
    endpoint.event_types = _clean_event_types(event_types)
    endpoint.is_active = is_active
    return _save_endpoint(endpoint)


@write_service
def endpoint_rotate_secret(*, acting_user: User | None, endpoint: Endpoint) -> Endpoint:
    """A new signing secret; deliveries from now on are signed with it (retries included)."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@write_service
def endpoint_delete(*, acting_user: User | None, endpoint: Endpoint) -> None:
    endpoint.delete()
    transaction.on_commit(forget_active)


@write_service
def endpoint_send_test(*, acting_user: User | None, endpoint: Endpoint) -> Delivery:
    """Queue a ``webhook.test`` event to this endpoint alone, to check the receiver and its signature check."""
    now = timezone.now()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        message_id=f"test_{secrets.token_hex(12)}",
        event_type="webhook.test",
        payload={
            "type": "webhook.test",
            "timestamp": now.isoformat(),
            "data": {"endpoint": endpoint.name, "sent_by": acting_user.get_username() if acting_user else None},
        },
        next_attempt_at=now,
    )
    _queue_attempt(delivery)
    return delivery


@write_service
def delivery_replay(*, acting_user: User | None, delivery: Delivery) -> Delivery:
    """Send a delivery again now, with the same message id (receivers deduplicate on it)."""
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    _queue_attempt(delivery, replay=True)
    return delivery


def _queue_attempt(delivery: Delivery, *, replay: bool = False, delay: float = 0) -> None:
    key = f"webhooks.deliver:{delivery.pk}:{delivery.attempts}" + (f":replay:{secrets.token_hex(4)}" if replay else "")
    run_after = timezone.now() + dt.timedelta(seconds=delay)

    def enqueue() -> None:
        job_enqueue(name="webhooks.deliver", payload={"delivery_id": delivery.pk}, key=key, run_after=run_after)

    transaction.on_commit(enqueue)


# --- The worker's side --------------------------------------------------------------------------


def _entries_of(items: Sequence[OutboxItem]) -> list[AuditEntry]:
    ids = [i.entry_id for i in items if i.entry_id is not None]
    query = Q(pk__in=ids) if ids else Q(pk__in=[])
    for item in items:
        if item.entry_id is None and item.object_ids:
            query |= Q(content_type_id=item.content_type_id, timestamp=item.timestamp, object_id__in=item.object_ids)
    return list(AuditEntry.objects.filter(query).select_related("content_type", "actor").order_by("pk"))


@write_service
def outbox_dispatch(*, acting_user: User | None, limit: int = DISPATCH_BATCH) -> int:
    """Turn committed changes waiting in the outbox into deliveries, one per subscribed endpoint.

    Idempotent: a delivery is unique per (endpoint, message id), so a dispatcher that dies after
    writing some deliveries and runs again adds only the missing ones. Returns deliveries created.
    """
    items = list(OutboxItem.objects.select_for_update().order_by("pk")[:limit])
    if not items:
        return 0
    endpoints = list(Endpoint.objects.filter(is_active=True))
    events = events_for(_entries_of(items)) if endpoints else []
    created = _create_deliveries(events, endpoints)
    OutboxItem.objects.filter(pk__in=[i.pk for i in items]).delete()
    if len(items) == limit:
        transaction.on_commit(_dispatch_again)
    return created


def _dispatch_again() -> None:
    job_enqueue(name="webhooks.dispatch", key=f"webhooks.dispatch:more:{secrets.token_hex(6)}", max_attempts=10)


def _create_deliveries(events: Sequence[Event], endpoints: Sequence[Endpoint]) -> int:
    now = timezone.now()
    wanted = [
        Delivery(
            endpoint=endpoint,
            message_id=event.message_id,
            event_type=event.type,
            payload=event.payload,
            account_id=event.account_id,
            next_attempt_at=now,
        )
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.type)
    ]
    if not wanted:
        return 0
    Delivery.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=500)
    stored = Delivery.objects.filter(
        status=DeliveryStatus.PENDING,
        attempts=0,
        message_id__in=list({d.message_id for d in wanted}),
        endpoint__in=endpoints,
    )
    for delivery in stored:
        _queue_attempt(delivery)
    return len(wanted)


def _body(delivery: Delivery) -> bytes:
    if delivery.endpoint.kind == EndpointKind.SLACK:
        return orjson.dumps({"text": slack_text(delivery)})
    return orjson.dumps(delivery.payload)


def slack_text(delivery: Delivery) -> str:
    data: dict[str, Any] = delivery.payload.get("data", {})
    label = str(EVENT_TYPES.get(delivery.event_type, delivery.event_type))
    actor = (data.get("actor") or {}).get("username")
    name = data.get("name") or data.get("endpoint") or ""
    text = f"{label}: {name}" if name else label
    return f"{text} ({actor})" if actor else text


def signed_headers(delivery: Delivery, body: bytes, *, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers: id, timestamp and the HMAC-SHA256 signature of id.timestamp.body."""
    signature = Webhook(delivery.endpoint.secret).sign(msg_id=delivery.message_id, timestamp=at, data=body)
    return {
        "content-type": "application/json",
        "user-agent": "Tandem-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one attempt of a delivery and record it; schedules the next attempt after a failure.

    Returns the delivery's status. An attempt for a delivery already delivered (a replayed job
    raced by a retry) does nothing.
    """
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("endpoint").filter(pk=delivery_id).first()
        if delivery is None or (delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts):
            return delivery.status if delivery else "gone"
        if not delivery.endpoint.is_active:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, _("The endpoint is disabled.")
            delivery.save(update_fields=["status", "last_error"])
            return delivery.status
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        delivery.save(update_fields=["attempts", "last_attempt_at"])
    body = _body(delivery)
    status_code: int | None = None
    error = ""
    try:
        response = outbound_request(
            method="POST",
            url=delivery.endpoint.url,
            data=body,
            headers=signed_headers(delivery, body, at=timezone.now()),
        )
        status_code = response.status
        if not 200 <= response.status < 300:
            error = _("HTTP %(status)s: %(body)s") % {
                "status": response.status,
                "body": response.body[:300].decode("utf-8", "replace"),
            }
    except OutboundRefused as exc:
        error = exc.message
    except requests.RequestException as exc:
        error = _("Could not reach the endpoint: %(error)s") % {"error": exc.__class__.__name__}
    with transaction.atomic():
        delivery.response_status = status_code
        delivery.last_error = error
        if not error:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                DeliveryStatus.SUCCEEDED,
                timezone.now(),
                None,
            )
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delay = RETRY_DELAYS[delivery.attempts - 1]
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
            _queue_attempt(delivery, delay=delay)
        delivery.save(update_fields=["response_status", "last_error", "status", "delivered_at", "next_attempt_at"])
    return delivery.status
