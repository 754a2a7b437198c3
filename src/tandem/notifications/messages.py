"""Texts stored untranslated (a msgid and its parameters) and rendered in the reader's language.

A rule evaluation runs in a worker whose active language is the server default, but the CSM who
reads the CTA may use Persian and the account manager who gets the email Japanese. So triggers and
notifications build a :class:`Message` instead of a finished string: it is stored as JSON next to a
rendering in the default language (kept for search, exports and old rows), and rendered again with
``gettext`` when shown: in the viewer's language in the web UI and the API, in the recipient's
``preferred_language`` in email, Slack posts and the digest. Mark msgids with ``gettext_noop`` so
``makemessages`` collects them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext


@dataclass(frozen=True)
class Message:
    """A translatable text: ``gettext(msgid) % params``; a parameter may itself be a Message."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    context: str = ""

    def render(self) -> str:
        text = pgettext(self.context, self.msgid) if self.context else gettext(self.msgid)
        if not self.params:
            return text
        return text % {k: _rendered(v) for k, v in self.params.items()}

    def __str__(self) -> str:
        return self.render()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"msgid": self.msgid, "params": {k: _plain(v) for k, v in self.params.items()}}
        if self.context:
            data["context"] = self.context
        return data

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        """The message stored by ``to_json``; None for anything else (an empty dict, an old row)."""
        if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
            return None
        params = {
            k: (cls.from_json(v) or v) if isinstance(v, dict) else v for k, v in (data.get("params") or {}).items()
        }
        return cls(data["msgid"], params, str(data.get("context") or ""))


def _rendered(value: Any) -> Any:
    if isinstance(value, Promise):
        value = _from_lazy(value)
    return value.render() if isinstance(value, Message) else value


class Msgid(str):
    """A msgid whose ``%`` builds a :class:`Message` instead of a string.

    ``Msgid(gettext_noop("Renews on %(date)s.")) % {"date": d}`` reads like the usual
    ``_("...") % {...}`` and keeps the msgid where ``makemessages`` finds it.
    """

    __slots__ = ()

    # str's % returns a str; building a Message instead is the point of this class.
    def __mod__(self, params: Any) -> Message:  # type: ignore[override]
        return Message(str(self), dict(params))


def _from_lazy(value: Promise) -> Message | str:
    """The msgid behind a ``gettext_lazy`` / ``pgettext_lazy`` label (a choice's label, say)."""
    args: tuple[Any, ...] = getattr(value, "_args", ())
    if len(args) == 1 and isinstance(args[0], str):
        return Message(args[0])
    if len(args) == 2 and all(isinstance(a, str) for a in args):
        return Message(args[1], context=args[0])
    return str(value)


def _plain(value: Any) -> Any:
    """A JSON-safe parameter that renders as the original did with ``%s`` (dates as ISO dates)."""
    if isinstance(value, Promise):
        value = _from_lazy(value)
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def render_stored(data: Any, fallback: str) -> str:
    """Render a stored message in the active language, or ``fallback`` when there is none."""
    message = Message.from_json(data)
    if message is None:
        return fallback
    try:
        return message.render()
    except (KeyError, TypeError, ValueError):  # a translation whose placeholders do not match
        return fallback


def as_text(value: Message | str) -> str:
    return value.render() if isinstance(value, Message) else value


def as_json(value: Message | str) -> dict[str, Any]:
    return value.to_json() if isinstance(value, Message) else {}
