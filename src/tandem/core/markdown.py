"""Markdown that people write (notes, comments) rendered to HTML no script survives.

markdown-it-py parses CommonMark with raw HTML switched off, and nh3 (the Rust ammonia sanitiser)
then keeps only the tags and attributes below, so neither a ``<script>`` typed into the text nor a
``javascript:`` link can run. Links open in a new tab without the opener. ``@username`` mentions
become highlighted spans; which people are mentioned is decided by the comments service, not here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_PARSER = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("strikethrough").enable("table")
)
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
MENTION_RE = re.compile(r"(?<![\w@/])@([\w+-](?:[\w.+-]{0,148}[\w+-])?)")


def render_markdown(text: str, *, mentions: Iterable[str] = ()) -> SafeString:
    """HTML for ``text``; the usernames in ``mentions`` are shown as mentions."""
    html = _PARSER.render(text or "")
    known = set(mentions)
    if known:
        html = MENTION_RE.sub(
            lambda m: f'<span class="mention">@{escape(m.group(1))}</span>' if m.group(1) in known else m.group(0),
            html,
        )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        allowed_classes={"span": {"mention"}},
    )
    return mark_safe(clean)  # sanitised by nh3 just above


def mentioned_usernames(text: str) -> list[str]:
    """The ``@name`` tokens in ``text``, in order, without repeats."""
    return list(dict.fromkeys(MENTION_RE.findall(text or "")))
