"""The transactional outbox: committed changes wait here until a worker turns them into deliveries.

Each audit entry (one saved by django-auditlog, or a bulk write's batch) adds an ``OutboxItem`` in
the same transaction as the change, but only while some endpoint is active, so a company without
webhooks pays nothing. After the commit a ``webhooks.dispatch`` job is queued (at most one per
second and process: its key is the second); the job drains the outbox. Whether an endpoint is
active is remembered for ``ACTIVE_TTL_SECONDS`` per process and forgotten at once by the process
that changes an endpoint.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from tandem.audit.models import AuditEntry
from tandem.audit.services import bulk_entries_written
from tandem.webhooks.events import OBJECTS

ACTIVE_TTL_SECONDS = 5.0
_active: dict[str, Any] = {"value": None, "checked": 0.0}
_labels: dict[int, bool] = {}


def forget_active() -> None:
    _active["value"] = None


def endpoints_active() -> bool:
    now = time.monotonic()
    if _active["value"] is None or now - _active["checked"] > ACTIVE_TTL_SECONDS:
        from tandem.webhooks.models import Endpoint

        _active["value"] = Endpoint.objects.filter(is_active=True).exists()
        _active["checked"] = now
    return bool(_active["value"])


def _is_event_model(content_type_id: int) -> bool:
    if content_type_id not in _labels:
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_id(content_type_id)
        _labels[content_type_id] = f"{ct.app_label}.{ct.model}" in OBJECTS
    return _labels[content_type_id]


def _entry_saved(sender: type[AuditEntry], instance: AuditEntry, created: bool, **kwargs: Any) -> None:
    if not created or not _is_event_model(instance.content_type_id) or not endpoints_active():
        return
    from tandem.webhooks.models import OutboxItem

    OutboxItem.objects.create(entry_id=instance.pk)
    _dispatch_after_commit()


def _bulk_written(
    sender: type[AuditEntry], content_type_id: int, timestamp: dt.datetime, object_ids: list[int], **kwargs: Any
) -> None:
    if not object_ids or not _is_event_model(content_type_id) or not endpoints_active():
        return
    from tandem.webhooks.models import OutboxItem

    OutboxItem.objects.create(content_type_id=content_type_id, timestamp=timestamp, object_ids=object_ids)
    _dispatch_after_commit()


def _dispatch_after_commit() -> None:
    """Once per transaction, however many entries it writes."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(item[1] is dispatch_soon for item in connection.run_on_commit):
        return
    transaction.on_commit(dispatch_soon)


def dispatch_soon() -> None:
    """Queue the dispatcher; one job per second is enough, however many changes committed in it."""
    from tandem.jobs.services import job_enqueue

    job_enqueue(name="webhooks.dispatch", key=f"webhooks.dispatch:{int(time.time())}", max_attempts=10)


def connect() -> None:
    post_save.connect(_entry_saved, sender=AuditEntry, dispatch_uid="webhooks-outbox-entry")
    bulk_entries_written.connect(_bulk_written, sender=AuditEntry, dispatch_uid="webhooks-outbox-bulk")
