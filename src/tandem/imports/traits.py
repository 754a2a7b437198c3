"""Custom-field columns in account and contact imports.

A column named like a custom field (its key, as ``normalise`` reads a header) fills that field. A
column that is neither a built-in field nor a custom field is offered as a new custom field, with
a type guessed from its values (``tandem.traits.values.infer_kind``); with ``create_traits`` the
import defines it (in the import's transaction: a refused import defines nothing) and fills it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tandem.audit.bulk import bulk_save
from tandem.imports.mapping import ColumnMap, normalise
from tandem.imports.report import RowError
from tandem.traits.models import TraitDefinition, TraitKind
from tandem.traits.selectors import trait_definitions
from tandem.traits.values import infer_kind, trait_value

if TYPE_CHECKING:
    from tandem.imports.entities.base import Row
    from tandem.imports.readers import Table
    from tandem.users.models import User

ENTITY_OF = {"accounts": "account", "contacts": "contact"}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass
class TraitOffer:
    column: str
    key: str
    kind: str
    choices: list[str] = field(default_factory=list)
    created: bool = False


@dataclass
class TraitColumns:
    entity: str
    positions: dict[str, int] = field(default_factory=dict)  # key -> column position
    columns: dict[str, str] = field(default_factory=dict)  # key -> the file's column name
    definitions: dict[str, TraitDefinition] = field(default_factory=dict)
    offers: list[TraitOffer] = field(default_factory=list)


def trait_columns(*, entity: str, table: Table, columns: ColumnMap, create_traits: bool) -> TraitColumns | None:
    """The custom-field columns of the file and the offers for the other unknown ones."""
    trait_entity = ENTITY_OF.get(entity)
    if trait_entity is None:
        return None
    from tandem.traits.services import reserved_keys

    found = TraitColumns(entity=trait_entity, definitions=dict(trait_definitions(entity=trait_entity)))
    used = set(columns.index.values())
    reserved = reserved_keys(trait_entity)
    for position, name in enumerate(table.columns):
        if position in used or not name:
            continue
        key = normalise(name)
        if key in found.definitions:
            found.positions[key], found.columns[key] = position, name
        elif KEY.match(key) and key not in reserved and key not in found.positions:
            kind, choices = infer_kind(cells[position] for _n, cells in table.rows)
            offer = TraitOffer(column=name, key=key, kind=kind, choices=choices, created=create_traits)
            found.offers.append(offer)
            if create_traits:
                label = name.strip()
                label = label[:1].upper() + label[1:] if label == label.lower() else label  # channel: Channel
                found.definitions[key] = TraitDefinition(
                    entity=trait_entity, key=key, label=label, kind=kind, choices=choices
                )
                found.positions[key], found.columns[key] = position, name
    return found


def offer_text(offer: TraitOffer) -> str:
    kind = dict(TraitKind.choices)[offer.kind]
    detail = f"{kind}" + (f": {', '.join(offer.choices)}" if offer.choices else "")
    if offer.created:
        return f"column '{offer.column}' is a new custom field '{offer.key}' ({detail})."
    return (
        f"column '{offer.column}' is not a known field: import it as a new custom field '{offer.key}' "
        f"({detail}) with --create-traits, or define it in Settings → Custom fields."
    )


def parse_traits(rows: list[Row], table: Table, found: TraitColumns) -> None:
    """Each row's custom-field values (``row.traits``); a bad value is an error on its row."""
    for row, (number, cells) in zip(rows, table.rows, strict=True):
        values: dict[str, object] = {}
        for key, position in found.positions.items():
            text = cells[position]
            try:
                values[key] = trait_value(found.definitions[key], text)
            except ValueError as exc:
                row.errors.append(RowError(number, found.columns[key], text, str(exc)))
        row.traits = values


def write_traits(
    *, acting_user: User | None, found: TraitColumns, rows: list[Row], now: dt.datetime
) -> tuple[int, list[str]]:
    """Define the offered fields (with ``create_traits``) and store the values of the valid rows on
    the records the import wrote, by external_id; returns (records changed, notes)."""
    from tandem.accounts.models import Account, Contact
    from tandem.traits.services import trait_define

    notes = []
    for offer in found.offers:
        if offer.created:
            defn = found.definitions[offer.key]
            trait_define(
                acting_user=acting_user,
                entity=found.entity,
                key=defn.key,
                label=defn.label,
                kind=defn.kind,
                choices=defn.choices,
            )
            notes.append(f"Created the custom field '{offer.key}' ({dict(TraitKind.choices)[offer.kind]}).")
    if not found.positions:
        return 0, notes
    wanted = {
        r.values["external_id"]: r.traits for r in rows if not r.errors and r.values.get("external_id") is not None
    }
    model = Account if found.entity == "account" else Contact
    changed = []
    keys = list(wanted)
    for start in range(0, len(keys), 2000):
        for record in model.objects.filter(external_id__in=keys[start : start + 2000]).only(
            "pk", "external_id", "traits"
        ):
            merged = dict(record.traits or {})
            for key, value in wanted[record.external_id].items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if merged != (record.traits or {}):
                record.traits = merged
                changed.append(record)
    if changed:
        bulk_save(model, creates=[], updates=changed, fields=["traits"], now=now)
    notes.append(f"Custom fields set on {len(changed)} record(s).")
    return len(changed), notes
