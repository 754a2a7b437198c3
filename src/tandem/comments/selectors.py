"""Reads of comment threads and of the colleagues one may mention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Prefetch, Q, QuerySet

from tandem.access.scoping import Action, can
from tandem.comments.models import Comment, Mention

if TYPE_CHECKING:
    from tandem.users.models import User


@dataclass(frozen=True)
class Thread:
    comment: Comment
    replies: list[Comment]


def comment_list(*, target: Model) -> QuerySet[Comment]:
    """A record's comments, oldest first, with authors and mentions (3 queries however many)."""
    return (
        Comment.objects.filter(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)
        .select_related("author", "parent")
        .prefetch_related(Prefetch("mentions", queryset=Mention.objects.select_related("user")))
        .order_by("created_at", "id")
    )


def comment_threads(*, target: Model) -> list[Thread]:
    """Top-level comments, each with its replies in order (the caller has checked the reader may see ``target``)."""
    comments = list(comment_list(target=target))
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    return [Thread(c, replies.get(c.pk, [])) for c in comments if not c.parent_id]


def mention_candidates(*, target: Model, prefix: str, exclude: User | None = None, limit: int = 8) -> list[User]:
    """Active colleagues whose username or name starts with ``prefix`` and who may see ``target``."""
    prefix = prefix.strip()[:50]
    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if prefix:
        users = users.filter(
            Q(username__istartswith=prefix) | Q(first_name__istartswith=prefix) | Q(last_name__istartswith=prefix)
        )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    found = []
    for user in users[: limit * 4]:  # a few more than shown: some may not see the record
        if can(user, Action.VIEW, target):
            found.append(user)
            if len(found) == limit:
                break
    return found
