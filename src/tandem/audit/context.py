"""Who is changing data right now, and through which path: the context every audit entry reads.

Interfaces open a context (the request middleware, the CLI, the job runner, the rules engine, the
importer); each write service narrows it to its ``acting_user`` (see :func:`write_service`).
Unlike django-auditlog's own ``set_actor``, contexts nest and restore the outer one on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast, overload

from django.db import transaction

if TYPE_CHECKING:
    from django.http import HttpRequest

    from tandem.users.models import User

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class AuditScope:
    """The actor and path of the writes in progress.

    With no explicit actor the request's user is read when an entry is written, because API
    token authentication sets ``request.user`` after the middleware has opened the scope.
    """

    actor: User | None = None
    via: str = ""
    request: HttpRequest | None = None
    # Stored as the entry's additional_data: who acted when it is not a user (the tracking API's
    # write-key source), so an API entry without an actor still says who wrote it.
    extra: dict[str, Any] | None = None

    def resolved_actor(self) -> User | None:
        if self.actor is not None:
            return self.actor
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            return user  # request.user: a lazy object that reads as the User
        return None

    def remote_addr(self) -> str | None:
        if self.request is None:
            return None
        return self.request.META.get("REMOTE_ADDR") or None


_NO_SCOPE = AuditScope()  # frozen, so sharing it as the default is safe
_scope: ContextVar[AuditScope] = ContextVar("tandem_audit_scope", default=_NO_SCOPE)
# The account an entry being written belongs to, set by the registry just before auditlog saves it.
pending_account_id: ContextVar[int | None] = ContextVar("tandem_audit_account", default=None)


def current_scope() -> AuditScope:
    return _scope.get()


_KEEP: Any = object()


@contextlib.contextmanager
def audit_context(
    *,
    actor: User | None = _KEEP,
    via: str | None = None,
    request: HttpRequest | None = _KEEP,
    extra: dict[str, Any] | None = _KEEP,
) -> Iterator[AuditScope]:
    """Run the block with this actor and path; what is not given is kept from the outer context."""
    current = _scope.get()
    changes: dict[str, Any] = {}
    if actor is not _KEEP:
        changes["actor"] = actor
    if via is not None:
        changes["via"] = via
    if request is not _KEEP:
        changes["request"] = request
    if extra is not _KEEP:
        changes["extra"] = extra
    scope = replace(current, **changes)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def set_process_via(via: str) -> None:
    """Set the path of every write in this process that no narrower context claims (the CLI, the worker)."""
    _scope.set(replace(_scope.get(), via=via))


@overload
def write_service(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def write_service(*, atomic: bool = True) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def write_service(
    func: Callable[P, R] | None = None, /, *, atomic: bool = True
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a write service: one transaction, and every change inside it is recorded as its acting user's.

    The service must take ``acting_user`` as a keyword argument. ``acting_user=None`` means an
    automated write (a rule, a job, an import run from the command line); its path comes from
    the context the interface opened.

    ``@write_service(atomic=False)`` is for the few services that commit in steps on purpose (rule
    evaluation commits per rule, an email is marked "sending" and committed before SMTP, the daily
    pipeline commits per step): they get the actor but open their transactions themselves.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if "acting_user" not in kwargs:
                raise TypeError(f"{func.__name__}() must be called with acting_user=")
            acting_user = cast("User | None", kwargs["acting_user"])
            actor = acting_user if acting_user is not None else _KEEP
            with transaction.atomic() if atomic else contextlib.nullcontext(), audit_context(actor=actor):
                return func(*args, **kwargs)

        wrapper.tandem_write_service = True  # type: ignore[attr-defined]  # found by the service census test
        return wrapper

    return decorate if func is None else decorate(func)
