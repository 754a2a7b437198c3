"""Reads of the ingest domain: sources with their health, and the event catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tandem.ingest.inbox import Inbox
from tandem.ingest.ingestor import pending_count
from tandem.ingest.models import Rejection, Source
from tandem.usage.eventstore import CatalogEntry, EventStore
from tandem.users.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

MANAGER_ROLES = frozenset({Role.ADMIN, Role.CS_MANAGER})


def user_may_manage_sources(*, user: User | AnonymousUser) -> bool:
    """Whoever manages configuration (admins and CS managers by default) creates, rotates and revokes write keys."""
    from tandem.access.scoping import Action, can_model
    from tandem.ingest.models import Source

    return can_model(user, Action.CHANGE, Source)


@dataclass(frozen=True)
class SourcesOverview:
    """Every source, the latest rejections, and how much is waiting to be stored."""

    sources: list[Source]
    rejections: list[Rejection]
    inbox_backlog: int
    pending_events: int


def sources_overview(*, rejections: int = 20) -> SourcesOverview:
    return SourcesOverview(
        sources=list(Source.objects.order_by("name")),
        rejections=list(Rejection.objects.select_related("source").order_by("-received_at", "-id")[:rejections]),
        inbox_backlog=Inbox.for_settings().backlog(),
        pending_events=pending_count(),
    )


@dataclass(frozen=True)
class CatalogEvent:
    """One event name with its volume and the property keys it arrived with."""

    entry: CatalogEntry
    properties: list[CatalogEntry] = field(default_factory=list)


def event_catalog(*, store: EventStore | None = None) -> list[CatalogEvent]:
    """Events by volume, each with its property keys (from the store's catalogue)."""
    events: list[CatalogEvent] = []
    for entry in (store or EventStore.for_settings()).catalog():
        if entry.property == "":
            events.append(CatalogEvent(entry=entry))
        elif events and events[-1].entry.event == entry.event:
            events[-1].properties.append(entry)
    return events
