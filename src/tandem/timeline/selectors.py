"""Reads on the timeline: interactions, and the one timeline of an account or a contact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from tandem.access.masking import sees_contract_values
from tandem.access.scoping import restrict
from tandem.core.markdown import render_markdown
from tandem.timeline.entries import (
    TYPE_OF_EVENT,
    TYPE_OF_INTERACTION,
    TYPES,
    TimelineItem,
    describe,
    masked_data,
    target_url,
)
from tandem.timeline.models import EventKind, Interaction, InteractionKind, TimelineEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User


def interaction_list(*, user: User | AnonymousUser, account_id: int | None = None) -> QuerySet[Interaction]:
    """Interactions this person may see, newest first, with who logged them and who took part.

    The one read path of the list: the REST API filters it, the account page takes its first rows.
    """
    qs = Interaction.objects.select_related("author", "logged_email").prefetch_related("users", "contacts")
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return restrict(qs, user=user).order_by("-occurred_at", "-id")


def account_timeline(*, user: User | AnonymousUser, account_id: int, limit: int = 20) -> list[Interaction]:
    """The most recent interactions on an account."""
    return list(interaction_list(user=user, account_id=account_id)[:limit])


# ---------------------------------------------------------------------------------------------------
# The unified timeline: interactions and events merged in date order, paged by a cursor.


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: entries strictly older than (when, source, id) in timeline order.

    Timeline order is newest first; at the same moment interactions (source 1) come before events
    (source 0), then higher ids first, so every entry has exactly one place and none is skipped or
    shown twice across pages.
    """

    when: dt.datetime
    source: int
    id: int

    def encode(self) -> str:
        return f"{self.when.isoformat()}~{self.source}~{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in ``text``, or None for the first page; raises ValueError when it is malformed."""
        if not text:
            return None
        when_text, source_text, id_text = text.split("~")
        when = dt.datetime.fromisoformat(when_text)
        if timezone.is_naive(when):
            raise ValueError("cursor without a time zone")
        source, pk = int(source_text), int(id_text)
        if source not in (0, 1) or not 0 < pk < 2**63:
            raise ValueError("cursor out of range")
        return cls(when, source, pk)


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None
    pinned: list[TimelineItem] = field(default_factory=list)


INTERACTION_SOURCE, EVENT_SOURCE = 1, 0
MAX_PAGE = 100


def _older_than(cursor: Cursor | None, source: int) -> Q:
    if cursor is None:
        return Q()
    older = Q(occurred_at__lt=cursor.when)
    if source == cursor.source:
        return older | Q(occurred_at=cursor.when, id__lt=cursor.id)
    if source < cursor.source:  # events at the cursor's moment come after its interactions
        return older | Q(occurred_at=cursor.when)
    return older


def _interactions(
    user: User | AnonymousUser,
    *,
    account_id: int | None,
    contact_id: int | None,
    kinds: Sequence[str] | None,
    person_id: int | None,
) -> QuerySet[Interaction]:
    qs = Interaction.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contacts=contact_id)
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    if person_id is not None:
        qs = qs.filter(
            Q(author_id=person_id)
            | Q(pk__in=Interaction.users.through.objects.filter(user_id=person_id).values("interaction_id"))
        )
    return restrict(qs, user=user)


def _events(
    user: User | AnonymousUser,
    *,
    account_id: int | None,
    contact_id: int | None,
    kinds: Sequence[str] | None,
    person_id: int | None,
) -> QuerySet[TimelineEvent]:
    qs = TimelineEvent.objects.all()
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    if person_id is not None:
        qs = qs.filter(actor_id=person_id)
    return restrict(qs, user=user)


def _kinds(types: Iterable[str]) -> tuple[list[str] | None, list[str] | None]:
    chosen = [t for t in types if t in TYPES]
    if not chosen:
        return None, None
    return (
        [k for t in chosen for k in TYPES[t].interaction_kinds],
        [k for t in chosen for k in TYPES[t].event_kinds],
    )


def _interaction_item(interaction: Interaction) -> TimelineItem:
    email = getattr(interaction, "logged_email", None) if interaction.kind == InteractionKind.EMAIL else None
    return TimelineItem(
        key=f"interaction-{interaction.pk}",
        type=TYPE_OF_INTERACTION.get(interaction.kind, "note"),
        kind=interaction.kind,
        kind_label=interaction.get_kind_display(),
        occurred_at=interaction.occurred_at,
        title=interaction.subject,
        body_html=render_markdown(interaction.summary) if interaction.summary else "",
        url=reverse("maillog:detail", args=[email.pk]) if email is not None else "",
        actor=interaction.author,
        contacts=list(interaction.contacts.all()),
        interaction=interaction,
        attachments=list(interaction.attachments.all()),
        pinned=interaction.pinned_at is not None,
        edited=interaction.edited_at is not None,
    )


def _event_items(events: list[TimelineEvent], *, show_values: bool) -> list[TimelineItem]:
    comment_ids = [e.target_id for e in events if e.kind == EventKind.COMMENT and e.target_id]
    comments: dict[int, Any] = {}
    comment_urls: dict[int, str] = {}
    if comment_ids:
        from tandem.comments.models import Comment
        from tandem.comments.targets import TARGETS

        by_label = {t.label.lower(): t for t in TARGETS.values()}
        for comment in (
            Comment.objects.filter(pk__in=comment_ids).select_related("content_type").prefetch_related("mentions__user")
        ):
            comments[comment.pk] = comment
            target = by_label.get(f"{comment.content_type.app_label}.{comment.content_type.model}")
            obj = comment.content_type.model_class()
            if target is not None and obj is not None:
                # Every target's page is the commented object's, with the thread on it.
                stub = obj(
                    pk=comment.object_id, **({"account_id": comment.account_id} if target.name == "note" else {})
                )
                comment_urls[comment.pk] = f"{target.url(stub)}#comment-{comment.pk}"
    items = []
    for event in events:
        title, detail = describe(event, show_values=show_values)
        body = ""
        if event.kind == EventKind.COMMENT:
            found = comments.get(event.target_id or 0)
            body = found.html() if found is not None else ""
        items.append(
            TimelineItem(
                key=f"event-{event.pk}",
                type=TYPE_OF_EVENT.get(event.kind, "cta"),
                kind=event.kind,
                kind_label=event.get_kind_display(),
                occurred_at=event.occurred_at,
                title=title,
                detail=detail,
                body_html=body,
                url=target_url(event, comment_urls=comment_urls),
                actor=event.actor,
                contacts=[event.contact] if event.contact is not None else [],
                event=event,
                data=masked_data(event.data or {}, show_values=show_values),
            )
        )
    return items


def timeline_page(
    *,
    user: User | AnonymousUser,
    account_id: int | None = None,
    contact_id: int | None = None,
    types: Iterable[str] = (),
    person_id: int | None = None,
    cursor: Cursor | None = None,
    limit: int = 25,
) -> TimelinePage:
    """One page of an account's or a contact's timeline as ``user`` may see it, newest first.

    ``types`` keeps only entries of those types (see ``entries.TYPES``); ``person_id`` only what that
    colleague logged, took part in or did. Pinned entries come separately (first page only) and are
    also in their place in the list.
    """
    limit = max(1, min(limit, MAX_PAGE))
    interaction_kinds, event_kinds = _kinds(types)
    scope = {"account_id": account_id, "contact_id": contact_id, "person_id": person_id}
    interactions = list(
        _interactions(user, kinds=interaction_kinds, **scope)
        .filter(_older_than(cursor, INTERACTION_SOURCE))
        .select_related("author", "logged_email")
        .prefetch_related("contacts", "attachments")
        .order_by("-occurred_at", "-id")[: limit + 1]
        if interaction_kinds is None or interaction_kinds
        else []
    )
    events = list(
        _events(user, kinds=event_kinds, **scope)
        .filter(_older_than(cursor, EVENT_SOURCE))
        .select_related("actor", "contact", "target_type")
        .order_by("-occurred_at", "-id")[: limit + 1]
        if event_kinds is None or event_kinds
        else []
    )
    show_values = sees_contract_values(user)
    merged = sorted(
        [(i.occurred_at, INTERACTION_SOURCE, i.pk, _interaction_item(i)) for i in interactions]
        + [
            (e.occurred_at, EVENT_SOURCE, e.pk, item)
            for e, item in zip(events, _event_items(events, show_values=show_values), strict=True)
        ],
        key=lambda row: (row[0], row[1], row[2]),
        reverse=True,
    )
    page = merged[:limit]
    next_cursor = Cursor(*page[-1][:3]).encode() if len(merged) > limit else None
    pinned: list[TimelineItem] = []
    if cursor is None and account_id is not None:
        pinned = [
            _interaction_item(i)
            for i in restrict(Interaction.objects.filter(account_id=account_id, pinned_at__isnull=False), user=user)
            .select_related("author", "logged_email")
            .prefetch_related("contacts", "attachments")
            .order_by("-pinned_at")[:10]
        ]
    return TimelinePage(items=[row[3] for row in page], next_cursor=next_cursor, pinned=pinned)


def timeline_people(*, user: User | AnonymousUser, account_id: int) -> list[User]:
    """Colleagues who appear on an account's timeline (for the person filter), by name."""
    from tandem.users.models import User as UserModel

    interactions = _interactions(user, account_id=account_id, contact_id=None, kinds=None, person_id=None).order_by()
    events = _events(user, account_id=account_id, contact_id=None, kinds=None, person_id=None).order_by()
    # One query: the three sources are subqueries of the users' filter.
    ids = (
        Q(pk__in=interactions.values("author_id"))
        | Q(
            pk__in=Interaction.users.through.objects.filter(interaction__in=interactions.values("pk")).values("user_id")
        )
        | Q(pk__in=events.values("actor_id"))
    )
    return list(UserModel.objects.filter(ids).order_by("first_name", "last_name", "username"))
