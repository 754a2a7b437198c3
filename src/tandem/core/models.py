"""Base classes shared by every domain model."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds created/updated stamps, maintained by the database layer on every save."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


def concrete_field(model: type[models.Model] | models.Model, name: str) -> models.Field[Any, Any]:
    """The field ``name`` of ``model`` (a class or an instance) that is stored in its table.

    ``Options.get_field`` also finds reverse relations, which have no column and no value on the
    instance; code that reads, writes or validates stored values asks for the field here instead.
    """
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model._meta.label}.{name} is a reverse relation, not a stored field")
    return field


def column_name(model: type[models.Model], name: str) -> str:
    """The column of field ``name`` in the model's table."""
    column = concrete_field(model, name).column
    if column is None:  # a many-to-many field: its values live in a table of their own
        raise FieldDoesNotExist(f"{model._meta.label}.{name} has no column in {model._meta.db_table}")
    return column
