"""Helpers every domain service uses to assign, validate and save models the same way.

Services call these inside their own ``transaction.atomic()`` block, so a refused write raises
:class:`~tandem.core.errors.DomainError` and leaves the database untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from tandem.core.errors import DomainError, FieldError, field_errors_from_validation
from tandem.core.models import concrete_field


def validation_problems(
    instance: models.Model, *, exclude: Iterable[str] | None = None, prefix: str = ""
) -> tuple[list[FieldError], bool]:
    """Run ``full_clean()``; return the field errors and whether all of them are uniqueness clashes."""
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None)
    except ValidationError as exc:
        errors = field_errors_from_validation(exc)
        if prefix:
            errors = [FieldError(f"{prefix}{e.field}", e.message) for e in errors]
        return errors, _all_unique(exc)
    return [], False


def _all_unique(exc: ValidationError) -> bool:
    if not hasattr(exc, "error_dict"):
        return False
    codes = [error.code for errors in exc.error_dict.values() for error in errors]
    return bool(codes) and all(code == "unique" for code in codes)


def raise_if_errors(message: str, errors: list[FieldError], *, conflict: bool = False) -> None:
    """Raise a DomainError naming every field; 409 when the only problem is a clash with stored data."""
    if errors:
        raise DomainError(message, errors, status=409 if conflict else 400)


def model_validate(
    instance: models.Model,
    *,
    message: str,
    exclude: Iterable[str] | None = None,
    extra_errors: Iterable[FieldError] = (),
) -> None:
    """``full_clean()`` the instance and raise one DomainError with these and any extra errors."""
    extra = list(extra_errors)
    errors, all_unique = validation_problems(instance, exclude=exclude)
    raise_if_errors(message, [*extra, *errors], conflict=all_unique and not extra)


def model_save(instance: models.Model, *, message: str) -> None:
    """Save, turning a constraint race lost to a concurrent writer into a 409 instead of a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise DomainError(
            message,
            [FieldError("non_field", _("This conflicts with a concurrent change; please retry."))],
            status=409,
        ) from None


def model_assign(instance: models.Model, *, data: Mapping[str, Any], fields: Collection[str]) -> list[str]:
    """Set ``data`` on ``instance``; return the names that changed.

    Only ``fields`` may be written; anything else is a programming error. ``None`` for a text
    field that may be blank but not null means "empty"; for any other non-null field it is a
    field error rather than an IntegrityError on save.
    """
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"{type(instance).__name__} has no writable fields {sorted(unknown)}")
    null_errors: list[FieldError] = []
    changed: list[str] = []
    for name, value in data.items():
        field = concrete_field(instance, name)
        if value is None and not field.null:
            if field.blank and isinstance(field, models.CharField | models.TextField):
                value = ""
            else:
                null_errors.append(FieldError(name, _("This field is required.")))
                continue
        if field.many_to_one:  # compare ids: reading an unset relation raises
            current: Any = getattr(instance, field.attname)
            new: Any = value.pk if value is not None else None
        else:
            current, new = getattr(instance, name), value
        if current != new or instance._state.adding:
            setattr(instance, name, value)
            changed.append(name)
    raise_if_errors(_("Invalid %(model)s.") % {"model": instance._meta.verbose_name}, null_errors)
    return changed


def blank_to_none(value: str | None) -> str | None:
    """Optional unique identifiers are stored as NULL when empty so that many rows may lack one."""
    if value is None:
        return None
    value = value.strip()
    return value or None
