"""Domain errors that carry enough detail for a CLI, a form or an API to name the culprit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.core.exceptions import ValidationError


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """A refused write. ``errors`` names each offending field."""

    message: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        details = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.message} ({details})"


class NotFound(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message=message, status=404)


def field_errors_from_validation(exc: ValidationError) -> list[FieldError]:
    """Flatten a Django ValidationError into FieldErrors (``__all__`` becomes ``non_field``)."""
    if hasattr(exc, "error_dict"):
        return [
            FieldError(field="non_field" if name == "__all__" else name, message=str(msg))
            for name, messages in exc.message_dict.items()
            for msg in messages
        ]
    return [FieldError(field="non_field", message=str(m)) for m in exc.messages]
