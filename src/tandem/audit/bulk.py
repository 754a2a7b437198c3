"""Model instances written in bulk with their audit entries: the one way imports and the demo write rows.

The owning apps' bulk services (``account_bulk_upsert``, ``contact_bulk_upsert``, ...) call this;
it inserts and updates in batches and records, in the caller's transaction, what each row was
created with and each changed field's stored value before an update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models

from tandem.audit.services import audit_rows_written
from tandem.core.bulk import fetch_in_chunks, insert_instances, update_rows
from tandem.core.models import column_name
from tandem.core.progress import NoProgress, Progress

BATCH_SIZE = 1000


def bulk_save(
    model: type[models.Model],
    *,
    creates: Sequence[models.Model],
    updates: Sequence[models.Model],
    fields: Sequence[str],
    now: dt.datetime,
    progress: Progress | None = None,
    describe: Callable[[Any], str] | None = None,
    account: Callable[[Any], int | None] | None = None,
) -> dict[Any, dict[str, Any]]:
    """Insert ``creates`` and write ``fields`` of ``updates``; updates get ``updated_at = now`` by hand.

    Each row written gets its audit entry: the values a new row was created with, and each changed
    field's stored value before the update (read here, one query per batch). ``describe`` names a
    row in its entry when the model's ``str()`` reads a relation; ``account`` gives its account id.

    Returns, per updated row's pk, the values the update replaced (``pk`` and the column names of
    ``fields``), for callers that act on a change (a ticket solved, a stage moved) without reading
    the rows again.
    """
    progress = progress or NoProgress()
    progress.stage(f"Writing {model._meta.verbose_name_plural}", len(creates) + len(updates))
    for start in range(0, len(creates), BATCH_SIZE):
        batch = list(creates[start : start + BATCH_SIZE])
        if not insert_instances(model, batch):
            model._default_manager.bulk_create(batch)
        progress.advance(len(batch))
    if any(pk is None for pk in (c.pk for c in creates[-1:])):
        _fetch_created_pks(model, creates)
    audit_rows_written(model=model, created=creates, describe=describe, account=account)
    replaced: dict[Any, dict[str, Any]] = {}
    if not updates:
        return replaced
    update_fields = list(fields)
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        for instance in updates:
            instance.updated_at = now  # type: ignore[attr-defined]  # the model has it: checked just above
        update_fields.append("updated_at")
    attnames = [column_name(model, name) for name in fields]
    for start in range(0, len(updates), BATCH_SIZE):
        batch = list(updates[start : start + BATCH_SIZE])
        stored = {
            values["pk"]: values
            for values in fetch_in_chunks(
                model._default_manager.all(), "pk", [obj.pk for obj in batch], "pk", *attnames
            )
        }
        update_rows(model, batch, update_fields)
        replaced.update(stored)
        audit_rows_written(
            model=model,
            updated=[(stored[obj.pk], obj) for obj in batch],
            fields=attnames,
            describe=describe,
            account=account,
        )
        progress.advance(len(batch))
    return replaced


def _fetch_created_pks(model: type[models.Model], creates: Sequence[models.Model]) -> None:
    """Backends that cannot return ids from a bulk insert: look them up by external_id."""
    by_key = {obj.external_id: obj for obj in creates}  # type: ignore[attr-defined]  # the imported models have one
    for values in fetch_in_chunks(model._default_manager.all(), "external_id", by_key, "external_id", "id"):
        by_key[values["external_id"]].pk = values["id"]
