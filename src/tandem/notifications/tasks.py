"""Background entry points for notifications: load by id, call one service."""

from __future__ import annotations

import datetime as dt

from tandem.notifications.services import digest_send, digests_enqueue, notification_deliver


def deliver_notification(*, user_id: int, key: str) -> None:
    notification_deliver(user_id=user_id, key=key)


def send_digest(*, user_id: int, day: str) -> None:
    digest_send(user_id=user_id, day=dt.date.fromisoformat(day))


def send_digests(*, day: str) -> None:
    digests_enqueue(day=dt.date.fromisoformat(day))
