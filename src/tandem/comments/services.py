"""Post, edit and delete comments; @mentions notify colleagues who may see the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tandem.access.models import BookScope
from tandem.access.policies import rights_for
from tandem.access.scoping import AccessDenied, Action, can
from tandem.audit.context import write_service
from tandem.comments.models import Comment, Mention
from tandem.comments.targets import target_of
from tandem.core.errors import DomainError, FieldError
from tandem.core.markdown import mentioned_usernames
from tandem.notifications.messages import Message
from tandem.notifications.services import NotificationDraft, notifications_send
from tandem.timeline import events
from tandem.timeline.models import EventKind, TimelineEvent

if TYPE_CHECKING:
    from tandem.users.models import User

MAX_LENGTH = 10_000
EXCERPT_LENGTH = 300  # of the body, kept in the timeline event for the API and exports


def _subject_of(target: Model) -> str:
    """What the comment is about, as the timeline names it (nothing for the account's own thread)."""
    if target._meta.label == "accounts.Account":
        return ""
    for attribute in ("name", "title", "subject"):
        value = getattr(target, attribute, "")
        if value:
            return str(value)[:200]
    return str(target)[:200]


def _comment_events(comment: Comment) -> QuerySet[TimelineEvent]:
    return TimelineEvent.objects.filter(
        kind=EventKind.COMMENT, target_type=ContentType.objects.get_for_model(Comment), target_id=comment.pk
    )


def may_comment(user: User, target: Model) -> bool:
    """Whoever may see the record and is not limited to reading (the read-only role) may comment."""
    rights = rights_for(user)
    return (rights.is_admin or rights.change_accounts != BookScope.NONE) and can(user, Action.VIEW, target)


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise DomainError(_("Invalid comment."), [FieldError("body", _("Write something first."))])
    if len(text) > MAX_LENGTH:
        raise DomainError(
            _("Invalid comment."),
            [FieldError("body", _("At most %(count)d characters.") % {"count": MAX_LENGTH})],
        )
    return text


def _mentioned(text: str, *, target: Model, author: User | None) -> list[User]:
    """The colleagues named with @; refused when one does not exist or may not see the record."""
    names = mentioned_usernames(text)
    if not names:
        return []
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
    problems = []
    found: list[User] = []
    for name in names:
        user = users.get(name)
        if user is None:
            continue  # "@" followed by a word that is nobody's name: plain text, like an email handle
        if not can(user, Action.VIEW, target):
            problems.append(
                _("%(name)s cannot see this record, so they cannot be mentioned here.")
                % {"name": user.get_full_name() or name}
            )
        elif author is None or user.pk != author.pk:
            found.append(user)
    if problems:
        raise DomainError(_("Invalid comment."), [FieldError("body", p) for p in problems])
    return found


def _notify(comment: Comment, users: list[User], *, author: User | None, url: str) -> None:
    who = (author.get_full_name() or author.get_username()) if author else _("Someone")
    drafts = [
        NotificationDraft(
            user_id=user.pk,
            key=f"mention:{comment.pk}",
            title=Message(gettext_noop("%(author)s mentioned you"), {"author": who}),
            body=comment.body[:300],
            url=f"{url}#comment-{comment.pk}",
        )
        for user in users
    ]
    parent_author = comment.parent.author if comment.parent_id and comment.parent else None
    if parent_author and parent_author not in users and (author is None or parent_author.pk != author.pk):
        drafts.append(
            NotificationDraft(
                user_id=parent_author.pk,
                key=f"reply:{comment.pk}",
                title=Message(gettext_noop("%(author)s replied to your comment"), {"author": who}),
                body=comment.body[:300],
                url=f"{url}#comment-{comment.pk}",
            )
        )
    notifications_send(drafts=drafts)


@write_service
def comment_post(*, acting_user: User, target: Model, body: str, parent: Comment | None = None) -> Comment:
    """Comment on ``target`` (or reply to ``parent`` on it); the people @mentioned are notified."""
    if not may_comment(acting_user, target):
        raise AccessDenied(_("You may not comment here."))
    text = _clean_body(body)
    spec = target_of(target)
    content_type = ContentType.objects.get_for_model(target)
    if parent is not None:
        if (parent.content_type_id, parent.object_id) != (content_type.pk, target.pk):
            raise DomainError(_("Invalid comment."), [FieldError("parent", _("Reply within the same thread."))])
        parent = parent.parent or parent  # a reply to a reply joins the same thread
    mentioned = _mentioned(text, target=target, author=acting_user)
    comment = Comment.objects.create(
        content_type=content_type,
        object_id=target.pk,
        account_id=spec.account_id(target),
        parent=parent,
        author=acting_user,
        body=text,
    )
    Mention.objects.bulk_create([Mention(comment=comment, user=u) for u in mentioned])
    events.record(
        account_id=comment.account_id,
        kind=EventKind.COMMENT,
        occurred_at=comment.created_at,
        actor_id=acting_user.pk,
        target=comment,
        data={"text": text[:EXCERPT_LENGTH], "on": _subject_of(target), "on_kind": spec.name},
    )
    _notify(comment, mentioned, author=acting_user, url=spec.url(target))
    return comment


@write_service
def comment_edit(*, acting_user: User, comment: Comment, body: str) -> Comment:
    """Change one's own comment; people newly @mentioned are notified."""
    if comment.author_id != acting_user.pk:
        raise AccessDenied(_("Only its author may edit a comment."))
    text = _clean_body(body)
    target = comment.target
    if target is None:
        raise DomainError(_("Invalid comment."), [FieldError("body", _("The record was deleted."))])
    mentioned = _mentioned(text, target=target, author=acting_user)
    before = set(comment.mentions.values_list("user_id", flat=True))
    comment.body, comment.edited_at = text, timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    comment.mentions.exclude(user__in=mentioned).delete()
    for event in _comment_events(comment):
        event.data = {**event.data, "text": text[:EXCERPT_LENGTH]}
        event.save(update_fields=["data"])
    new = [u for u in mentioned if u.pk not in before]
    Mention.objects.bulk_create([Mention(comment=comment, user=u) for u in new])
    _notify(comment, new, author=acting_user, url=target_of(target).url(target))
    return comment


@write_service
def comment_delete(*, acting_user: User, comment: Comment) -> None:
    """Its author, an admin or a CS manager removes a comment (its replies go with it)."""
    ensure_may_delete(acting_user, comment)
    replies = list(Comment.objects.filter(parent=comment).values_list("pk", flat=True))
    TimelineEvent.objects.filter(
        kind=EventKind.COMMENT,
        target_type=ContentType.objects.get_for_model(Comment),
        target_id__in=[comment.pk, *replies],
    ).delete()  # the event points at the comment without a foreign key, so it would outlive it
    comment.delete()


def ensure_may_delete(user: User, comment: Comment) -> None:
    if comment.author_id != user.pk and not rights_for(user).manage_configuration:
        raise AccessDenied(_("Only its author or a manager may delete a comment."))
