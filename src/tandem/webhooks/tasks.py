"""Worker jobs of the webhooks app (thin: the services do the work)."""

from __future__ import annotations

from tandem.webhooks.services import delivery_attempt, outbox_dispatch


def dispatch() -> int:
    return outbox_dispatch(acting_user=None)


def deliver(*, delivery_id: int) -> str:
    return delivery_attempt(delivery_id=delivery_id)
