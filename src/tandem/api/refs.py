"""Turn ids in a request body into model instances, naming the field when one does not exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, TypeVar

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import Field

from tandem.core.errors import DomainError, FieldError

M = TypeVar("M", bound=models.Model)

# Database ids: positive 64-bit integers, so an absurd number is a 422 and never a DB overflow.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _unknown(field: str, ids: Iterable[int]) -> DomainError:
    ids = list(ids)
    return DomainError(
        _("Unknown reference."),
        [
            FieldError(
                field,
                ngettext("No object with id %(ids)s.", "No objects with ids %(ids)s.", len(ids))
                % {"ids": ", ".join(str(i) for i in ids)},
            )
        ],
    )


def resolve(model: type[M], pk: int | None, *, field: str) -> M | None:
    if pk is None:
        return None
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise _unknown(field, [pk])
    return obj


def resolve_required(model: type[M], pk: int, *, field: str) -> M:
    obj = resolve(model, pk, field=field)
    assert obj is not None
    return obj


def resolve_many(model: type[M], pks: Iterable[int], *, field: str) -> list[M]:
    wanted = list(dict.fromkeys(pks))
    found = model._default_manager.in_bulk(wanted)
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise _unknown(field, missing)
    return [found[pk] for pk in wanted]


def resolve_fields(data: dict, models_by_field: Mapping[str, type[models.Model]]) -> dict:
    """Replace the ids under ``models_by_field`` keys of ``data`` with instances, in place."""
    for field, model in models_by_field.items():
        if data.get(field) is not None:
            data[field] = resolve(model, data[field], field=field)
    return data
