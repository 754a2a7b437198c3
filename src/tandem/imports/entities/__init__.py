"""The importable entities, by the name used on the command line."""

from __future__ import annotations

from tandem.imports.entities import accounts, contacts, exchange_rates, subscriptions, tickets
from tandem.imports.entities.base import Entity

ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in (
        accounts.ENTITY,
        contacts.ENTITY,
        subscriptions.ENTITY,
        tickets.ENTITY,
        exchange_rates.ENTITY,
    )
}
