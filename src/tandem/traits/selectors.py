"""Reads for custom fields: the definitions, and a record's values as a page shows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tandem.traits.models import TraitDefinition


def trait_definitions(*, entity: str) -> dict[str, TraitDefinition]:
    return {t.key: t for t in TraitDefinition.objects.filter(entity=entity).order_by("label", "id")}


@dataclass(frozen=True)
class TraitShown:
    definition: TraitDefinition
    value: Any

    @property
    def display(self) -> str:
        """The value as a page shows it, in the active language."""
        import datetime as dt

        from django.utils.translation import gettext as _

        from tandem.traits.models import TraitKind
        from tandem.web.templatetags.tandem_format import local_date, number

        if self.value is None:
            return "—"
        kind = self.definition.kind
        if kind == TraitKind.BOOLEAN:
            return _("yes") if self.value else _("no")
        if kind == TraitKind.NUMBER:
            return number(self.value)
        if kind == TraitKind.DATE:
            try:
                return local_date(dt.date.fromisoformat(str(self.value)))
            except ValueError:
                return str(self.value)
        return str(self.value)


def traits_shown(*, entity: str, values: dict[str, Any] | None) -> list[TraitShown]:
    """Every defined field with the record's value (None when it has none), in label order."""
    values = values or {}
    return [TraitShown(t, values.get(t.key)) for t in trait_definitions(entity=entity).values()]
