"""Turn ids in a request body into model instances, naming the field when one does not exist."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Schema
from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from tandem.core.errors import DomainError, FieldError

if TYPE_CHECKING:
    from tandem.users.models import User

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")

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


# A person named in a request: their id, username or email address.
UserRef = Id | Annotated[str, Field(min_length=1, max_length=254)]
USER_REF_NOTE = "a user id, username or email address."


def resolve_user(ref: int | str | None, *, field: str) -> User | None:
    """The user a request names by id, username or (case-insensitive) email; a field error if none or several."""
    from tandem.users.models import User

    if ref is None:
        return None
    if isinstance(ref, int):
        return resolve(User, ref, field=field)
    text = ref.strip()
    found = list(User.objects.filter(username=text)[:1])
    if not found and "@" in text:
        found = list(User.objects.filter(email__iexact=text)[:2])
    if len(found) == 1:
        return found[0]
    message = (
        _("Several users have this email address; give the username or id.")
        if found
        else _("No user with the username or email %(ref)s.") % {"ref": text}
    )
    raise DomainError(_("Unknown reference."), [FieldError(field, message)])


def resolve_collecting(
    data: dict, models_by_field: Mapping[str, type[models.Model]], *, users: Iterable[str] = ()
) -> list[FieldError]:
    """Like ``resolve_fields`` (users named by id, username or email), but return every unknown reference.

    The caller then still validates the rest, so that one response names every problem at once.
    """
    errors: list[FieldError] = []
    for field, model in models_by_field.items():
        if data.get(field) is not None:
            try:
                data[field] = resolve(model, data[field], field=field)
            except DomainError as exc:
                errors.extend(exc.errors)
                data[field] = None
    for field in users:
        if data.get(field) is not None:
            try:
                data[field] = resolve_user(data[field], field=field)
            except DomainError as exc:
                errors.extend(exc.errors)
                data[field] = None
    return errors


def with_reference_errors(errors: list[FieldError], write: Callable[[], T]) -> T:
    """Run ``write`` in a transaction and report its field errors together with ``errors`` (then roll back)."""
    from django.db import transaction

    with transaction.atomic():
        try:
            result = write()
        except DomainError as exc:
            if not errors:
                raise
            # A reference left unresolved is also "missing" to the model: report it once, as unknown.
            named = {e.field for e in errors}
            raise DomainError(exc.message, [*errors, *(e for e in exc.errors if e.field not in named)]) from None
        if errors:
            raise DomainError(_("Unknown reference."), errors)
    return result


def _raw_reference_error(target: str, value: Any, *, field: str) -> FieldError | None:
    """The error for a reference as sent (before the schema converted it), or None when it exists or is not an id."""
    from django.apps import apps

    try:
        if target == "user":
            if isinstance(value, bool) or not isinstance(value, int | str) or value in ("", None):
                return None
            resolve_user(value, field=field)
        else:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
                return None
            resolve(apps.get_model(target), value, field=field)
    except DomainError as exc:
        return exc.errors[0] if exc.errors else None
    return None


class ReportsReferences(Schema):
    """An input schema that, when the request is invalid, also names the unknown references in it.

    Without this, a request with a wrong enum value and an unknown owner answers the first problem,
    and the second only after it is fixed. ``references`` maps a field to the model it refers to
    (``"app.Model"``) or to ``"user"`` (an id, username or email address).
    """

    references: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _with_reference_errors(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, Mapping):
                raise
            failed = {e["loc"][0] for e in exc.errors() if e["loc"]}
            extra = [
                error
                for field, target in cls.references.items()
                if field in data and field not in failed
                for error in [_raw_reference_error(target, data[field], field=field)]
                if error is not None
            ]
            if not extra:
                raise
            lines: list[Any] = [
                {"type": e["type"], "loc": e["loc"], "input": e["input"], **({"ctx": e["ctx"]} if "ctx" in e else {})}
                for e in exc.errors()
            ]
            lines += [
                {
                    "type": PydanticCustomError("unknown_reference", e.message.replace("{", "{{").replace("}", "}}")),
                    "loc": (e.field,),
                    "input": data[e.field],
                }
                for e in extra
            ]
            raise ValidationError.from_exception_data(exc.title, lines) from None
