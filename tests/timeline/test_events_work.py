"""The owning apps put their changes on the timeline, in the same transaction: comments, meetings,
calls to action and tasks, and opportunities (the data side is in test_events_data.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.comments.models import Comment
from tandem.comments.services import comment_delete, comment_edit, comment_post
from tandem.core.errors import DomainError
from tandem.meetings.services import meeting_cancel, meeting_schedule, meeting_update
from tandem.opportunities.models import ChurnReason, Opportunity
from tandem.opportunities.services import (
    churn_reasons_ensure_defaults,
    opportunity_create,
    opportunity_history_record,
    opportunity_move_stage,
)
from tandem.playbooks.models import CallToAction, CtaTask
from tandem.playbooks.services import cta_bulk_record, cta_close, cta_create, cta_task_complete
from tandem.timeline.models import EventKind, Interaction, TimelineEvent
from tandem.timeline.selectors import timeline_page
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def csm():
    with as_fixture():
        return user_create(acting_user=None, username="casey", password=None, roles=["csm"])


@pytest.fixture
def am():
    with as_fixture():
        return user_create(acting_user=None, username="avery", password=None, roles=["account_manager"])


@pytest.fixture
def account(csm, am):
    return AccountFactory(name="Northwind", csm_owner=csm, am_owner=am)


def _events(account, kind=None):
    found = TimelineEvent.objects.filter(account=account).order_by("id")
    return list(found.filter(kind=kind) if kind else found)


def _titles(user, account) -> list[str]:
    return [item.title for item in timeline_page(user=user, account_id=account.pk).items]


# --- comments ------------------------------------------------------------------------------------


def test_a_comment_on_an_opportunity_is_on_the_account_timeline_with_what_it_is_about(account, am, csm) -> None:
    deal = opportunity_create(
        acting_user=am, account=account, kind="upsell", amount=Decimal("1000"), close_date=dt.date(2027, 1, 31),
        name="Analytics add-on",
    )  # fmt: skip
    comment = comment_post(acting_user=am, target=deal, body="Usage looks right for this, @casey?")
    [event] = _events(account, EventKind.COMMENT)
    assert event.actor == am and event.target_id == comment.pk
    assert event.data == {
        "text": "Usage looks right for this, @casey?",
        "on": "Analytics add-on",
        "on_kind": "opportunity",
    }
    [item] = [i for i in timeline_page(user=csm, account_id=account.pk, types=["comment"]).items]
    assert item.title == "Comment on Analytics add-on" and "Usage looks right" in item.body_html
    assert item.url == f"/opportunities/{deal.pk}/#comment-{comment.pk}"

    reply = comment_post(acting_user=csm, target=deal, body="Yes: 48 seats of 50.", parent=comment)
    comment_edit(acting_user=csm, comment=reply, body="Yes: 49 seats of 50.")
    assert _events(account, EventKind.COMMENT)[-1].data["text"] == "Yes: 49 seats of 50."

    comment_delete(acting_user=am, comment=comment)  # its reply goes with it, and so do their entries
    assert not Comment.objects.exists() and _events(account, EventKind.COMMENT) == []


def test_a_refused_comment_leaves_no_entry(account, csm) -> None:
    with pytest.raises(DomainError):
        comment_post(acting_user=csm, target=account, body="   ")
    assert _events(account) == []
    comment_post(acting_user=csm, target=account, body="Kick-off went well.")
    assert [e.data["on"] for e in _events(account, EventKind.COMMENT)] == [""]
    assert _titles(csm, account) == ["Comment"]


# --- meetings ------------------------------------------------------------------------------------


def test_scheduling_moving_and_cancelling_a_meeting_are_on_the_timeline(account, csm) -> None:
    start = timezone.now() + dt.timedelta(days=3)
    meeting = meeting_schedule(
        acting_user=csm, account=account, kind="qbr", title="Q4 review", starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )  # fmt: skip
    [scheduled] = _events(account)
    assert scheduled.kind == EventKind.MEETING_SCHEDULED and scheduled.target_id == meeting.pk
    assert scheduled.data["moved"] is False and scheduled.data["kind"] == "qbr"

    meeting_update(acting_user=csm, meeting=meeting, data={"agenda": "Adoption, renewal"})
    assert len(_events(account)) == 1  # not a move: the attendees get the updated invitation only
    later = start + dt.timedelta(days=1)
    meeting_update(
        acting_user=csm, meeting=meeting, data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)}
    )
    meeting_cancel(acting_user=csm, meeting=meeting)
    meeting_cancel(acting_user=csm, meeting=meeting)  # cancelling twice records it once
    kinds = [(e.kind, e.data.get("moved")) for e in _events(account)]
    assert kinds == [
        (EventKind.MEETING_SCHEDULED, False),
        (EventKind.MEETING_SCHEDULED, True),
        (EventKind.MEETING_CANCELLED, None),
    ]
    assert _titles(csm, account)[0] == "Meeting cancelled: Q4 review"
    assert dt.datetime.fromisoformat(_events(account)[1].data["starts_at"]) == later


def test_a_meeting_that_fails_validation_records_nothing(account, csm) -> None:
    start = timezone.now()
    with pytest.raises(DomainError):
        meeting_schedule(acting_user=csm, account=account, kind="qbr", title="", starts_at=start, ends_at=start)
    assert _events(account) == []


# --- calls to action and tasks --------------------------------------------------------------------


def test_a_cta_opened_by_hand_its_task_and_its_closing_are_on_the_timeline(account, csm) -> None:
    today = timezone.localdate()
    cta = cta_create(
        acting_user=csm, account=account, title="Plan the adoption workshop", type="lifecycle", owner=csm,
        due_date=today + dt.timedelta(days=5), today=today,
    )  # fmt: skip
    task = CtaTask.objects.get(cta=cta)
    cta_task_complete(acting_user=csm, task=task)
    cta_task_complete(acting_user=csm, task=task)  # ticking it again changes nothing
    cta_close(acting_user=csm, cta=cta, outcome="success", reason="Workshop booked for March")
    assert [(e.kind, e.actor_id) for e in _events(account)] == [
        (EventKind.CTA_OPENED, csm.pk),
        (EventKind.TASK_DONE, csm.pk),
        (EventKind.CTA_CLOSED, csm.pk),
    ]
    closed = _events(account)[-1]
    assert closed.data == {
        "title": "Plan the adoption workshop",
        "outcome": "success",
        "reason": "Workshop booked for March",
    }
    # An event, not an interaction: closing a CTA is no conversation with the customer.
    assert not Interaction.objects.filter(account=account).exists()
    [item] = [i for i in timeline_page(user=csm, account_id=account.pk, types=["cta"]).items if i.kind == "cta_closed"]
    assert item.title == "Call to action closed: Plan the adoption workshop"
    assert item.detail == "Outcome: Success · Workshop booked for March"
    assert item.url == f"/playbooks/ctas/{cta.pk}/"


def test_ctas_recorded_in_bulk_are_on_the_timeline_on_their_own_days(account, csm) -> None:
    opened = timezone.localdate() - dt.timedelta(days=90)
    closed_at = timezone.now() - dt.timedelta(days=80)
    ctas = [
        CallToAction(
            account=account, type="risk", title="Usage dropped", owner=csm, opened_on=opened,
            due_date=opened + dt.timedelta(days=7), status="closed", closed_at=closed_at, outcome="success",
        ),
        CallToAction(account=account, type="onboarding", title="Kick-off", owner=csm, opened_on=opened,
                     due_date=opened + dt.timedelta(days=7)),
    ]  # fmt: skip
    with as_fixture():
        cta_bulk_record(acting_user=None, ctas=ctas, now=timezone.now())
    found = [(e.kind, e.data["title"], e.occurred_at.date()) for e in _events(account)]
    assert sorted(found) == sorted(
        [
            (EventKind.CTA_OPENED, "Usage dropped", opened),
            (EventKind.CTA_CLOSED, "Usage dropped", closed_at.date()),
            (EventKind.CTA_OPENED, "Kick-off", opened),
        ]
    )


# --- opportunities -------------------------------------------------------------------------------


def test_an_opportunity_opened_moved_and_won_is_on_the_timeline_with_its_amounts(account, am, csm, settings) -> None:
    deal = opportunity_create(
        acting_user=am, account=account, kind="cross_sell", amount=Decimal("12000"), close_date=dt.date(2027, 3, 1),
        name="Analytics",
    )  # fmt: skip
    opportunity_move_stage(acting_user=am, opportunity=deal, stage="propose")
    opportunity_move_stage(acting_user=am, opportunity=deal, stage="propose")  # no move, no entry
    opportunity_move_stage(acting_user=am, opportunity=deal, stage="closed_won")
    opened, moved, won = _events(account)
    assert opened.kind == EventKind.OPPORTUNITY_OPENED and opened.data["amount"] == "12000"
    assert opened.data["type"] == "cross_sell" and opened.data["currency"] == settings.TANDEM_REPORTING_CURRENCY
    assert moved.kind == EventKind.OPPORTUNITY_CHANGED
    assert (moved.data["stage_before"], moved.data["stage"]) == ("qualify", "propose")
    assert won.kind == EventKind.OPPORTUNITY_WON and won.actor == am
    am_view = {i.title: i.detail for i in timeline_page(user=am, account_id=account.pk).items}
    assert "12,000" in am_view["Opportunity won: Analytics"]


def test_opportunities_written_in_bulk_are_opened_and_closed_on_their_days(account, am) -> None:
    with as_fixture():
        churn_reasons_ensure_defaults(acting_user=None)
    reason = ChurnReason.objects.order_by("code").first()
    lost_on = timezone.localdate() - dt.timedelta(days=30)
    deals = [
        Opportunity(account=account, kind="upsell", name="Seats", stage="closed_won", amount=Decimal("500"),
                    probability=Decimal("100"), close_date=lost_on, closed_on=lost_on),
        Opportunity(account=account, kind="renewal", name="Renewal", stage="closed_lost", amount=Decimal("0"),
                    probability=Decimal("0"), current_arr=Decimal("9000"), close_date=lost_on, closed_on=lost_on,
                    churn_reason=reason),
    ]  # fmt: skip
    with as_fixture():
        Opportunity.objects.bulk_create(deals)
        assert opportunity_history_record(opportunities=deals) == 3
    kinds = {(e.kind, e.data["name"]) for e in _events(account)}
    assert kinds == {
        (EventKind.OPPORTUNITY_OPENED, "Seats"),
        (EventKind.OPPORTUNITY_WON, "Seats"),
        (EventKind.OPPORTUNITY_LOST, "Renewal"),
    }
    [lost] = _events(account, EventKind.OPPORTUNITY_LOST)
    assert lost.data["amount"] == "9000" and lost.data["reason"] == reason.name
    assert lost.occurred_at.date() == lost_on


def test_contract_values_in_opportunity_entries_are_masked_for_a_reader_who_may_not_see_them(account, am) -> None:
    opportunity_create(
        acting_user=am, account=account, kind="upsell", amount=Decimal("7000"), close_date=dt.date(2027, 3, 1),
        name="Seats",
    )  # fmt: skip
    [item] = timeline_page(user=am, account_id=account.pk).items
    assert "7,000" in item.detail
    with as_fixture():
        viewer = user_create(acting_user=None, username="rita", password=None, roles=["read_only"])
    [masked] = timeline_page(user=viewer, account_id=account.pk).items
    assert "7,000" not in masked.detail and masked.data["amount"] is None
