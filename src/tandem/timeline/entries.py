"""What the timeline shows: the filter types and how each event reads, in the reader's language.

Events store codes and values (``data``) when they happen; the words are chosen here at read time,
so a Persian reader and an English reader see the same entry in their own language, and amounts
are masked for readers who may not see contract values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import TextChoices
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tandem.timeline.events import VALUE_KEYS
from tandem.timeline.models import EventKind, InteractionKind

if TYPE_CHECKING:
    from tandem.accounts.models import Contact
    from tandem.timeline.models import Interaction, InteractionAttachment, TimelineEvent
    from tandem.users.models import User


@dataclass(frozen=True)
class EntryType:
    label: Promise
    interaction_kinds: tuple[str, ...] = ()
    event_kinds: tuple[str, ...] = ()


# The filter's types, in the order the filter lists them.
TYPES: dict[str, EntryType] = {
    "call": EntryType(gettext_lazy("Calls"), (InteractionKind.CALL,)),
    "email": EntryType(gettext_lazy("Emails"), (InteractionKind.EMAIL,), (EventKind.EMAIL_SENT,)),
    "meeting": EntryType(
        gettext_lazy("Meetings"),
        (InteractionKind.MEETING, InteractionKind.QBR, InteractionKind.ONBOARDING),
        (EventKind.MEETING_SCHEDULED, EventKind.MEETING_CANCELLED),
    ),
    "note": EntryType(gettext_lazy("Notes"), (InteractionKind.NOTE,)),
    "comment": EntryType(gettext_lazy("Comments"), (), (EventKind.COMMENT, EventKind.PLAN_COMMENT)),
    "cta": EntryType(
        gettext_lazy("Calls to action and tasks"), (), (EventKind.CTA_OPENED, EventKind.CTA_CLOSED, EventKind.TASK_DONE)
    ),
    "milestone": EntryType(
        gettext_lazy("Success plan and milestones"), (), (EventKind.MILESTONE_REACHED, EventKind.PLAN_SHARED)
    ),
    "survey": EntryType(gettext_lazy("Survey answers"), (), (EventKind.SURVEY_ANSWERED,)),
    "lifecycle": EntryType(gettext_lazy("Lifecycle stage"), (), (EventKind.STAGE_CHANGED,)),
    "health": EntryType(gettext_lazy("Health"), (), (EventKind.HEALTH_CHANGED,)),
    "ticket": EntryType(gettext_lazy("Tickets"), (), (EventKind.TICKET_OPENED, EventKind.TICKET_SOLVED)),
    "contract": EntryType(gettext_lazy("Contracts"), (), (EventKind.CONTRACT_CHANGED,)),
    "opportunity": EntryType(
        gettext_lazy("Opportunities"),
        (),
        (
            EventKind.OPPORTUNITY_OPENED,
            EventKind.OPPORTUNITY_CHANGED,
            EventKind.OPPORTUNITY_WON,
            EventKind.OPPORTUNITY_LOST,
        ),
    ),
}
TYPE_OF_INTERACTION = {kind: name for name, t in TYPES.items() for kind in t.interaction_kinds}
TYPE_OF_EVENT = {kind: name for name, t in TYPES.items() for kind in t.event_kinds}


@dataclass
class TimelineItem:
    """One entry as a page or the API shows it, whichever table it came from."""

    key: str  # "interaction-12" or "event-34": the HTML id and the API's id
    type: str  # one of TYPES
    kind: str  # the interaction's or event's kind
    kind_label: str
    occurred_at: dt.datetime
    title: str
    detail: str = ""
    body_html: str = ""
    url: str = ""
    actor: User | None = None
    contacts: list[Contact] = field(default_factory=list)
    interaction: Interaction | None = None
    event: TimelineEvent | None = None
    attachments: list[InteractionAttachment] = field(default_factory=list)
    pinned: bool = False
    edited: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def contact_links(self) -> SafeString:
        """The contacts who took part, each a link to their page, for one translatable sentence."""
        return format_html_join(
            ", ",
            '<a href="{}" dir="auto">{}</a>',
            ((reverse("accounts:contact", args=[c.pk]), str(c)) for c in self.contacts),
        )


def _label(choices: type[TextChoices], code: Any) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code or "")


def _money(value: Any, currency: Any) -> str:
    from tandem.web.templatetags.tandem_format import format_money

    if value is None or value == "":
        return ""
    if value == "•••":
        return "•••"
    try:
        return format_money(Decimal(str(value)), str(currency or "") or None)
    except (InvalidOperation, ValueError):
        return ""


def masked_data(data: Mapping[str, Any], *, show_values: bool) -> dict[str, Any]:
    """``data`` with contract values replaced by None for a reader who may not see them."""
    if show_values:
        return dict(data)
    return {k: (None if k in VALUE_KEYS else v) for k, v in data.items()}


def _stage_label(code: Any) -> str:
    from tandem.accounts.models import LifecycleStage

    return _label(LifecycleStage, code)


def _opportunity_kind(code: Any) -> str:
    from tandem.opportunities.models import OpportunityKind

    return _label(OpportunityKind, code)


def _opportunity_stage(code: Any) -> str:
    from tandem.opportunities.models import Stage

    return _label(Stage, code)


def describe(event: TimelineEvent, *, show_values: bool) -> tuple[str, str]:
    """The entry's title and one line of detail, in the active language."""
    d = event.data or {}
    kind = event.kind

    def amount(key: str = "amount") -> str:
        return "•••" if not show_values and d.get(key) is not None else _money(d.get(key), d.get("currency"))

    if kind == EventKind.CTA_OPENED:
        detail = _("Opened by the rule “%(rule)s”.") % {"rule": d["rule"]} if d.get("rule") else ""
        return _("Call to action opened: %(title)s") % {"title": d.get("title", "")}, detail
    if kind == EventKind.CTA_CLOSED:
        from tandem.playbooks.models import CtaOutcome

        outcome = _label(CtaOutcome, d.get("outcome")) if d.get("outcome") else ""
        parts = [_("Outcome: %(outcome)s") % {"outcome": outcome} if outcome else "", str(d.get("reason") or "")]
        return _("Call to action closed: %(title)s") % {"title": d.get("title", "")}, " · ".join(p for p in parts if p)
    if kind == EventKind.TASK_DONE:
        return _("Task done: %(title)s") % {"title": d.get("title", "")}, d.get("cta_title", "")
    if kind == EventKind.EMAIL_SENT:
        return _("Email sent: %(subject)s") % {"subject": d.get("subject", "")}, (
            _("To %(address)s") % {"address": d["to"]} if d.get("to") else ""
        )
    if kind == EventKind.MILESTONE_REACHED:
        return _("Milestone reached: %(title)s") % {"title": d.get("title", "")}, (
            _("Value when reached: %(value)s") % {"value": d["value"]} if d.get("value") not in (None, "") else ""
        )
    if kind == EventKind.SURVEY_ANSWERED:
        return _("NPS answer: %(score)s") % {"score": d.get("score", "")}, d.get("comment", "")
    if kind == EventKind.STAGE_CHANGED:
        if d.get("before"):
            title = _("Lifecycle stage: %(before)s → %(after)s") % {
                "before": _stage_label(d.get("before")),
                "after": _stage_label(d.get("after")),
            }
        else:
            title = _("Lifecycle stage: %(after)s") % {"after": _stage_label(d.get("after"))}
        return title, ""
    if kind == EventKind.HEALTH_CHANGED:
        from tandem.health.models import Band

        title = _("Health: %(before)s → %(after)s") % {
            "before": _label(Band, d.get("before")) if d.get("before") else "—",
            "after": _label(Band, d.get("after")),
        }
        score = d.get("score")
        return title, (_("Score %(score)s") % {"score": round(float(score))} if score not in (None, "") else "")
    if kind == EventKind.TICKET_OPENED:
        from tandem.support.models import TicketPriority

        return _("Ticket opened: %(subject)s") % {"subject": d.get("subject", "")}, (
            _("Priority: %(priority)s") % {"priority": _label(TicketPriority, d["priority"])}
            if d.get("priority")
            else ""
        )
    if kind == EventKind.TICKET_SOLVED:
        return _("Ticket solved: %(subject)s") % {"subject": d.get("subject", "")}, ""
    if kind == EventKind.CONTRACT_CHANGED:
        change = d.get("change")
        name = d.get("name", "")
        titles = {
            "started": _("Contract started: %(name)s"),
            "renewed": _("Contract renewed: %(name)s"),
            "cancelled": _("Contract cancelled: %(name)s"),
        }
        title = titles.get(str(change), _("Contract changed: %(name)s")) % {"name": name}
        after, before = amount("arr"), amount("arr_before")
        if before and after and before != after:
            detail = _("ARR %(before)s → %(after)s") % {"before": before, "after": after}
        else:
            detail = _("ARR %(arr)s") % {"arr": after} if after else ""
        return title, detail
    if kind == EventKind.OPPORTUNITY_OPENED:
        return _("Opportunity opened: %(name)s") % {"name": d.get("name", "")}, " · ".join(
            part for part in (_opportunity_kind(d.get("type")), amount()) if part
        )
    if kind == EventKind.OPPORTUNITY_CHANGED:
        parts = []
        if d.get("stage_before") and d.get("stage") and d["stage_before"] != d["stage"]:
            parts.append(
                _("%(before)s → %(after)s")
                % {"before": _opportunity_stage(d["stage_before"]), "after": _opportunity_stage(d["stage"])}
            )
        before, after = amount("amount_before"), amount()
        if before and after and before != after:
            parts.append(_("%(before)s → %(after)s") % {"before": before, "after": after})
        return _("Opportunity updated: %(name)s") % {"name": d.get("name", "")}, " · ".join(parts)
    if kind == EventKind.OPPORTUNITY_WON:
        return _("Opportunity won: %(name)s") % {"name": d.get("name", "")}, amount()
    if kind == EventKind.OPPORTUNITY_LOST:
        return _("Opportunity lost: %(name)s") % {"name": d.get("name", "")}, str(d.get("reason") or "")
    if kind == EventKind.MEETING_SCHEDULED:
        title = (_("Meeting moved: %(title)s") if d.get("moved") else _("Meeting scheduled: %(title)s")) % {
            "title": d.get("title", "")
        }
        return title, _when(d.get("starts_at"))
    if kind == EventKind.MEETING_CANCELLED:
        return _("Meeting cancelled: %(title)s") % {"title": d.get("title", "")}, _when(d.get("starts_at"))
    if kind == EventKind.PLAN_SHARED:
        return _("Success plan shared with %(contact)s") % {"contact": d.get("contact", "")}, (
            _("Link valid until %(date)s") % {"date": _when(d.get("expires_at"))} if d.get("expires_at") else ""
        )
    if kind == EventKind.PLAN_COMMENT:
        return _("%(contact)s commented on the success plan") % {"contact": d.get("contact", "")}, str(
            d.get("body") or ""
        )
    if kind == EventKind.COMMENT:
        return (_("Comment on %(on)s") % {"on": d["on"]} if d.get("on") else _("Comment")), ""
    return event.get_kind_display(), ""


def _when(value: Any) -> str:
    from tandem.web.templatetags.tandem_format import local_datetime

    if not value:
        return ""
    try:
        return local_datetime(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return ""


# The page each event's target opens.
_TARGET_URLS: dict[str, tuple[str, str]] = {
    "playbooks.calltoaction": ("playbooks:cta", "cta"),
    "support.ticket": ("support:ticket", "ticket"),
    "opportunities.opportunity": ("opportunities:detail", "opportunity"),
    "meetings.meeting": ("meetings:detail", "meeting"),
    "success.successplan": ("success:plan_of", "plan"),
}


def target_url(event: TimelineEvent, *, comment_urls: Mapping[int, str] | None = None) -> str:
    content_type = event.target_type
    if content_type is None or event.target_id is None:
        return ""
    label = f"{content_type.app_label}.{content_type.model}"
    if label == "comments.comment":
        return (comment_urls or {}).get(event.target_id, "")
    if label not in _TARGET_URLS:
        return ""
    name, _kind = _TARGET_URLS[label]
    try:
        return reverse(name, args=[event.target_id])
    except NoReverseMatch:
        return ""
