"""The owning apps put data-side changes on the timeline, in the same transaction: support tickets,
survey answers, success milestones, lifecycle stages, health bands and contracts, one by one and in
bulk (imports, the demo, the daily pipeline), and never twice for the same change (the work side is
in test_events_work.py)."""

import csv
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tandem.accounts.models import Account
from tandem.accounts.services import (
    StageMove,
    account_bulk_upsert,
    account_create,
    account_stage_history_record,
    account_update,
)
from tandem.core.errors import DomainError
from tandem.health.models import AccountHealth, Scorecard
from tandem.health.services import health_band_history_record, health_update_current
from tandem.imports.services import import_file
from tandem.metrics import store
from tandem.subscriptions.models import Subscription, SubscriptionItem
from tandem.subscriptions.services import (
    SubscriptionItemInput,
    subscription_bulk_upsert,
    subscription_create,
    subscription_totals,
    subscription_update,
)
from tandem.success.models import SuccessMilestone
from tandem.success.services import milestone_bulk_create, milestone_complete, milestone_create
from tandem.support.models import Ticket
from tandem.support.services import ticket_bulk_upsert, ticket_create, ticket_update
from tandem.surveys.models import NpsResponse
from tandem.surveys.services import nps_response_bulk_create, nps_response_create
from tandem.timeline.models import EventKind, TimelineEvent
from tandem.timeline.selectors import timeline_page
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, ProductFactory, as_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]

OPENED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


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
def write_csv(tmp_path):
    def write(name, header, rows):
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
        return path

    return write


@pytest.fixture
def account(csm, am):
    return AccountFactory(name="Northwind", csm_owner=csm, am_owner=am)


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, first_name="Laura", email="laura@northwind.example")


def _events(account, kind=None):
    found = TimelineEvent.objects.filter(account=account).order_by("occurred_at", "id")
    return list(found.filter(kind=kind) if kind else found)


def _items(user, account, types=()):
    return timeline_page(user=user, account_id=account.pk, types=types).items


# --- support tickets -----------------------------------------------------------------------------


def test_a_ticket_opened_then_solved_is_on_the_account_and_requester_timelines(account, contact, csm) -> None:
    ticket = ticket_create(
        acting_user=csm, account=account, contact=contact, subject="Login fails", opened_at=OPENED, priority="high"
    )
    [opened] = _events(account)
    assert (opened.kind, opened.occurred_at, opened.actor, opened.contact) == (
        EventKind.TICKET_OPENED, OPENED, csm, contact,
    )  # fmt: skip
    assert opened.data == {"subject": "Login fails", "priority": "high"} and opened.target_id == ticket.pk

    ticket_update(acting_user=csm, ticket=ticket, data={"status": "open"})  # not solved: no entry
    ticket_update(acting_user=csm, ticket=ticket, data={"satisfaction": 4})
    solved_at = OPENED + dt.timedelta(days=1)
    ticket_update(acting_user=csm, ticket=ticket, data={"status": "solved", "closed_at": solved_at})
    ticket_update(acting_user=csm, ticket=ticket, data={"status": "closed"})  # solved, then closed: one solve
    opened, solved = _events(account)
    assert (solved.kind, solved.occurred_at, solved.contact, solved.actor) == (
        EventKind.TICKET_SOLVED, solved_at, contact, csm,
    )  # fmt: skip
    assert solved.data == {"subject": "Login fails", "status": "solved"}

    titles = {i.title: i for i in _items(csm, account, ["ticket"])}
    assert titles["Ticket opened: Login fails"].detail == "Priority: High"
    assert titles["Ticket solved: Login fails"].url == f"/support/tickets/{ticket.pk}/"
    on_contact = timeline_page(user=csm, contact_id=contact.pk).items
    assert [i.title for i in on_contact] == ["Ticket solved: Login fails", "Ticket opened: Login fails"]


def test_a_ticket_reopened_and_solved_again_is_solved_twice_and_a_refused_one_records_nothing(account) -> None:
    ticket = ticket_create(acting_user=None, account=account, subject="Export", opened_at=OPENED, status="solved")
    assert [e.kind for e in _events(account)] == [EventKind.TICKET_OPENED, EventKind.TICKET_SOLVED]
    ticket_update(acting_user=None, ticket=ticket, data={"status": "open"})
    ticket_update(acting_user=None, ticket=ticket, data={"status": "closed"})
    assert [e.kind for e in _events(account, EventKind.TICKET_SOLVED)] == [EventKind.TICKET_SOLVED] * 2
    assert _events(account, EventKind.TICKET_SOLVED)[-1].data["status"] == "closed"

    with pytest.raises(DomainError):
        ticket_create(acting_user=None, account=account, subject="", opened_at=OPENED)
    with pytest.raises(DomainError):
        ticket_update(
            acting_user=None, ticket=ticket, data={"status": "open", "closed_at": OPENED - dt.timedelta(days=1)}
        )
    assert len(_events(account)) == 3


def test_tickets_written_in_bulk_are_opened_and_solved_at_their_own_times_and_once(account, contact, am) -> None:
    closed_at = OPENED + dt.timedelta(hours=5)
    tickets = [
        Ticket(account=account, contact=contact, external_id="zd-1", subject="SSO", priority="urgent",
               status="solved", opened_at=OPENED, closed_at=closed_at),
        Ticket(account=account, external_id="zd-2", subject="Billing", status="open", opened_at=OPENED),
    ]  # fmt: skip
    ticket_bulk_upsert(acting_user=am, creates=tickets, updates=[], fields=[], now=timezone.now())
    found = sorted((e.kind, e.data["subject"], e.occurred_at, e.contact_id, e.actor_id) for e in _events(account))
    assert found == sorted(
        [
            (EventKind.TICKET_OPENED, "SSO", OPENED, contact.pk, am.pk),
            (EventKind.TICKET_SOLVED, "SSO", closed_at, contact.pk, am.pk),
            (EventKind.TICKET_OPENED, "Billing", OPENED, None, am.pk),
        ]
    )

    # A sync sends both again, one of them now solved: only that transition is new.
    stored = {t.external_id: t for t in Ticket.objects.all()}
    stored["zd-1"].satisfaction = 5
    stored["zd-2"].status, stored["zd-2"].closed_at = "closed", closed_at
    updates = [stored["zd-1"], stored["zd-2"]]
    ticket_bulk_upsert(
        acting_user=None, creates=[], updates=updates, fields=["status", "closed_at", "satisfaction"],
        now=timezone.now(),
    )  # fmt: skip
    ticket_bulk_upsert(
        acting_user=None, creates=[], updates=updates, fields=["status", "closed_at", "satisfaction"],
        now=timezone.now(),
    )  # fmt: skip
    solved = [(e.data["subject"], e.data["status"]) for e in _events(account, EventKind.TICKET_SOLVED)]
    assert sorted(solved) == [("Billing", "closed"), ("SSO", "solved")]
    assert len(_events(account)) == 4

    # Without the status among the fields written, nothing can have been solved.
    stored["zd-2"].status = "open"
    ticket_bulk_upsert(acting_user=None, creates=[], updates=[stored["zd-2"]], fields=["status"], now=timezone.now())
    stored["zd-2"].status = "solved"
    ticket_bulk_upsert(acting_user=None, creates=[], updates=[stored["zd-2"]], fields=["subject"], now=timezone.now())
    assert len(_events(account, EventKind.TICKET_SOLVED)) == 2


def test_importing_tickets_twice_records_them_once_and_a_solved_ticket_on_the_next_import(
    account, contact, write_csv
) -> None:
    account.external_id = "nw"
    account.save()
    header = ["external_id", "account_external_id", "subject", "priority", "status", "opened_at", "closed_at",
              "requester_email"]  # fmt: skip
    rows = [
        ["t1", "nw", "Login broken", "urgent", "open", "2025-05-01T09:30:00Z", "", "laura@northwind.example"],
        ["t2", "nw", "Slow reports", "low", "solved", "2025-05-02T08:00:00Z", "2025-05-03T08:00:00Z", ""],
    ]
    path = write_csv("tickets.csv", header, rows)
    for _run in range(2):
        report = import_file(acting_user=None, entity="tickets", path=path)
        assert report.errors == []
    assert sorted((e.kind, e.data["subject"]) for e in _events(account)) == [
        (EventKind.TICKET_OPENED, "Login broken"),
        (EventKind.TICKET_OPENED, "Slow reports"),
        (EventKind.TICKET_SOLVED, "Slow reports"),
    ]
    [login] = [e for e in _events(account) if e.data["subject"] == "Login broken"]
    assert login.contact_id == contact.pk and login.occurred_at == dt.datetime(2025, 5, 1, 9, 30, tzinfo=dt.UTC)

    rows[0][4], rows[0][6] = "solved", "2025-05-04T10:00:00Z"
    path = write_csv("tickets-2.csv", header, rows)
    for _run in range(2):
        import_file(acting_user=None, entity="tickets", path=path)
    [_slow, login_solved] = _events(account, EventKind.TICKET_SOLVED)
    assert login_solved.data["subject"] == "Login broken"
    assert login_solved.occurred_at == dt.datetime(2025, 5, 4, 10, 0, tzinfo=dt.UTC)
    assert len(_events(account)) == 4


# --- survey answers ------------------------------------------------------------------------------


def test_an_nps_answer_is_on_the_account_and_contact_timelines(account, contact, csm) -> None:
    response = nps_response_create(
        acting_user=csm, account=account, contact=contact, score=9, comment="Great support", responded_at=OPENED
    )
    [event] = _events(account)
    assert (event.kind, event.occurred_at, event.contact, event.target_id, event.actor) == (
        EventKind.SURVEY_ANSWERED, OPENED, contact, response.pk, csm,
    )  # fmt: skip
    assert event.data == {"score": 9, "comment": "Great support", "survey": "nps"}
    [item] = timeline_page(user=csm, contact_id=contact.pk).items
    assert (item.title, item.detail) == ("NPS answer: 9", "Great support")

    with pytest.raises(DomainError):
        nps_response_create(acting_user=csm, account=account, contact=ContactFactory(), score=3, responded_at=OPENED)
    assert len(_events(account)) == 1


def test_nps_answers_imported_twice_are_stored_and_on_the_timeline_once(account, contact) -> None:
    def answers():
        return [
            NpsResponse(account=account, contact=contact, external_id="s-1", score=3, comment="Too slow",
                        responded_at=OPENED),
            NpsResponse(account=account, external_id="s-2", score=10, responded_at=OPENED + dt.timedelta(days=2)),
        ]  # fmt: skip

    assert nps_response_bulk_create(acting_user=None, responses=answers(), now=timezone.now()) == 2
    assert nps_response_bulk_create(acting_user=None, responses=answers(), now=timezone.now()) == 0
    assert NpsResponse.objects.count() == 2
    found = [(e.data["score"], e.data["comment"], e.contact_id, e.occurred_at) for e in _events(account)]
    assert found == [(3, "Too slow", contact.pk, OPENED), (10, "", None, OPENED + dt.timedelta(days=2))]


# --- success milestones --------------------------------------------------------------------------


def test_a_milestone_reached_by_hand_is_on_the_timeline_once(account, csm) -> None:
    milestone = milestone_create(acting_user=csm, account=account, title="Admins trained", due_date=dt.date(2025, 4, 1))
    assert _events(account) == []  # planned, not reached
    milestone_complete(acting_user=csm, milestone=milestone, when=OPENED)
    milestone_complete(acting_user=csm, milestone=milestone)  # keeps the first date, and the one entry
    [event] = _events(account)
    assert (event.kind, event.occurred_at, event.actor, event.target_id) == (
        EventKind.MILESTONE_REACHED, OPENED, csm, milestone.pk,
    )  # fmt: skip
    assert event.data["title"] == "Admins trained" and "value" in event.data
    assert [i.title for i in _items(csm, account, ["milestone"])] == ["Milestone reached: Admins trained"]


def test_milestones_written_in_bulk_are_reached_when_they_were_completed(account, csm) -> None:
    done = dt.datetime(2025, 2, 10, 15, tzinfo=dt.UTC)
    milestones = [
        SuccessMilestone(account=account, title="Kick-off call held", due_date=dt.date(2025, 2, 8), owner=csm,
                         completed_at=done),
        SuccessMilestone(account=account, title="First workflow live", due_date=dt.date(2025, 4, 1), owner=csm),
    ]  # fmt: skip
    milestone_bulk_create(acting_user=None, milestones=milestones, now=timezone.now())
    [event] = _events(account)
    assert (event.data["title"], event.occurred_at, event.actor_id) == ("Kick-off call held", done, csm.pk)
    milestone_complete(acting_user=csm, milestone=milestones[0])  # already reached
    milestone_complete(acting_user=csm, milestone=milestones[1], when=done)
    assert [e.data["title"] for e in _events(account)] == ["Kick-off call held", "First workflow live"]


# --- lifecycle stage -----------------------------------------------------------------------------


def test_a_new_lifecycle_stage_is_on_the_timeline_and_creating_an_account_is_not_a_change(csm) -> None:
    account = account_create(acting_user=csm, name="Contoso", lifecycle_stage="onboarding")
    assert _events(account) == []
    account_update(acting_user=csm, account=account, data={"name": "Contoso Ltd"})
    account_update(acting_user=csm, account=account, data={"lifecycle_stage": "onboarding"})
    assert _events(account) == []
    account_update(acting_user=csm, account=account, data={"lifecycle_stage": "adoption"})
    [event] = _events(account)
    assert (event.kind, event.actor, event.data) == (
        EventKind.STAGE_CHANGED, csm, {"before": "onboarding", "after": "adoption"},
    )  # fmt: skip
    with pytest.raises(DomainError):
        account_update(acting_user=csm, account=account, data={"lifecycle_stage": "mature", "name": ""})
    assert len(_events(account)) == 1
    assert [i.title for i in _items(csm, account)] == ["Lifecycle stage: Onboarding → Adoption"]


def test_stages_imported_or_upserted_in_bulk_are_recorded_once_per_change(csm, write_csv) -> None:
    path = write_csv(
        "accounts.csv", ["external_id", "name", "lifecycle_stage"],
        [["a1", "Alpha", "onboarding"], ["b1", "Beta", "mature"]],
    )  # fmt: skip
    import_file(acting_user=None, entity="accounts", path=path)
    import_file(acting_user=None, entity="accounts", path=path)
    assert not TimelineEvent.objects.exists()  # new accounts, then nothing changed

    moved = write_csv(
        "accounts-2.csv", ["external_id", "name", "lifecycle_stage"],
        [["a1", "Alpha", "adoption"], ["b1", "Beta", "mature"]],
    )  # fmt: skip
    import_file(acting_user=csm, entity="accounts", path=moved)
    import_file(acting_user=csm, entity="accounts", path=moved)
    [event] = TimelineEvent.objects.all()
    assert (event.account.external_id, event.data, event.actor) == (
        "a1", {"before": "onboarding", "after": "adoption"}, csm,
    )  # fmt: skip

    alpha, beta = Account.objects.get(external_id="a1"), Account.objects.get(external_id="b1")
    alpha.lifecycle_stage, beta.name = "churned", "Beta GmbH"
    account_bulk_upsert(
        acting_user=None, creates=[], updates=[alpha, beta], fields=["lifecycle_stage", "name"], now=timezone.now()
    )
    assert [e.data for e in _events(alpha)] == [
        {"before": "onboarding", "after": "adoption"},
        {"before": "adoption", "after": "churned"},
    ]
    assert _events(beta) == []


def test_stages_entered_in_the_past_are_recorded_on_their_days(account, csm) -> None:
    first = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    later = dt.datetime(2024, 3, 2, 9, tzinfo=dt.UTC)
    written = account_stage_history_record(
        moves=[
            StageMove(account_id=account.pk, on=first, after="onboarding"),
            StageMove(account_id=account.pk, on=later, after="adoption", before="onboarding"),
        ]
    )
    assert written == 2
    assert [i.title for i in _items(csm, account)] == [
        "Lifecycle stage: Onboarding → Adoption",
        "Lifecycle stage: Onboarding",
    ]


# --- health bands --------------------------------------------------------------------------------


@pytest.fixture
def health_store():
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")
    yield
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")


def _scores(day: dt.date, card: Scorecard, scores: dict[int, tuple[float, str]]) -> None:
    store.write_snapshot(
        "health",
        day,
        pa.table(
            {
                "scorecard_id": pa.array([card.pk] * len(scores), pa.int64()),
                "account_id": pa.array(list(scores), pa.int64()),
                "score": pa.array([s for s, _b in scores.values()], pa.float64()),
                "band": pa.array([b for _s, b in scores.values()], pa.string()),
            }
        ),
    )


@pytest.fixture
def primary():
    with as_fixture():
        return Scorecard.objects.create(name="Overall health", is_primary=True)


def test_a_health_band_change_is_on_the_timeline_and_a_score_change_alone_is_not(
    health_store, primary, account, csm
) -> None:
    steady = AccountFactory()
    d1, d2, d3 = dt.date(2025, 3, 1), dt.date(2025, 3, 8), dt.date(2025, 3, 15)
    _scores(d1, primary, {account.pk: (72.0, "good"), steady.pk: (55.0, "neutral")})
    _scores(d2, primary, {account.pk: (38.44, "poor"), steady.pk: (50.0, "neutral")})
    _scores(d3, primary, {account.pk: (36.0, "poor"), steady.pk: (49.0, "neutral")})

    health_update_current(as_of=d1)
    assert not TimelineEvent.objects.exists()  # a first score is no change of band
    health_update_current(as_of=d2)
    health_update_current(as_of=d2)  # the same day again changes nothing
    health_update_current(as_of=d3)
    [event] = TimelineEvent.objects.all()
    assert (event.account_id, event.kind, event.actor) == (account.pk, EventKind.HEALTH_CHANGED, None)
    assert event.data == {"before": "good", "after": "poor", "score": 38.4}
    assert event.occurred_at == dt.datetime(2025, 3, 8, 6, tzinfo=dt.UTC)
    assert AccountHealth.objects.get(account=account).band == "poor"
    [item] = _items(csm, account, ["health"])
    assert (item.title, item.detail) == ("Health: Good → Poor", "Score 38")


def test_the_daily_bulk_path_reads_the_previous_bands_in_one_query(health_store, primary) -> None:
    day, next_day = dt.date(2025, 3, 1), dt.date(2025, 3, 2)

    def run(n: int) -> int:
        accounts = [AccountFactory() for _ in range(n)]
        _scores(day, primary, {a.pk: (70.0, "good") for a in accounts})
        _scores(next_day, primary, {a.pk: (30.0, "poor") for a in accounts})
        health_update_current(as_of=day)
        with CaptureQueriesContext(connection) as queries:
            health_update_current(as_of=next_day)
        assert TimelineEvent.objects.filter(account__in=accounts, kind=EventKind.HEALTH_CHANGED).count() == n
        return len(queries)

    assert run(3) == run(40)


def test_band_changes_in_the_scored_history_are_recorded_on_their_days(health_store, primary, account) -> None:
    other = AccountFactory()
    days = [dt.date(2025, 1, 1), dt.date(2025, 1, 22), dt.date(2025, 2, 12)]
    _scores(days[0], primary, {account.pk: (80.0, "good"), other.pk: (40.0, "poor")})
    _scores(days[1], primary, {account.pk: (60.0, "neutral"), other.pk: (42.0, "poor")})
    _scores(days[2], primary, {account.pk: (81.0, "good"), other.pk: (70.0, "good")})
    assert health_band_history_record(dates=days) == 3
    found = sorted((e.account_id, e.occurred_at.date(), e.data["before"], e.data["after"]) for e in
                   TimelineEvent.objects.filter(kind=EventKind.HEALTH_CHANGED))  # fmt: skip
    assert found == sorted(
        [
            (account.pk, days[1], "good", "neutral"),
            (account.pk, days[2], "neutral", "good"),
            (other.pk, days[2], "poor", "good"),
        ]
    )


# --- contracts -----------------------------------------------------------------------------------


@pytest.fixture
def growth():
    return ProductFactory(code="growth", name="Growth")


def _lines(product, quantity="10", price="120"):
    return [SubscriptionItemInput(product=product, quantity=Decimal(quantity), unit_price=Decimal(price))]


def test_a_contract_started_changed_renewed_and_cancelled_is_on_the_timeline(account, am, growth) -> None:
    start = timezone.localdate() - dt.timedelta(days=200)
    term = subscription_create(
        acting_user=am, account=account, start_date=start, end_date=start + dt.timedelta(days=364),
        billing_period=12, items=_lines(growth),
    )  # fmt: skip
    [started] = _events(account)
    assert (started.kind, started.actor, started.target_id) == (EventKind.CONTRACT_CHANGED, am, term.pk)
    assert started.data == {"change": "started", "name": "Growth", "arr": "1200.00", "arr_before": None,
                            "currency": "USD"}  # fmt: skip
    assert started.occurred_at.date() == start  # on the day it started

    subscription_update(acting_user=am, subscription=term, data={"auto_renew": True})  # no change of the contract
    subscription_update(acting_user=am, subscription=term, data={}, items=_lines(growth, quantity="12"))
    changed = _events(account)[-1]
    assert changed.data["change"] == "changed"
    assert (changed.data["arr_before"], changed.data["arr"]) == ("1200.00", "1440.00")

    assert term.end_date is not None
    renewal = subscription_create(
        acting_user=am, account=account, start_date=term.end_date + dt.timedelta(days=1),
        end_date=term.end_date + dt.timedelta(days=365), billing_period=12, items=_lines(growth, quantity="15"),
    )  # fmt: skip
    renewed = _events(account, EventKind.CONTRACT_CHANGED)[-1]
    assert renewed.data["change"] == "renewed" and renewed.target_id == renewal.pk
    assert (renewed.data["arr_before"], renewed.data["arr"]) == ("1440.00", "1800.00")

    subscription_update(acting_user=am, subscription=renewal, data={"status": "canceled"})
    subscription_update(acting_user=am, subscription=renewal, data={"status": "canceled"})
    cancelled = _events(account)[-1]
    assert cancelled.data["change"] == "cancelled" and len(_events(account)) == 4

    titles = {i.title: i.detail for i in _items(am, account, ["contract"])}
    assert titles == {
        "Contract started: Growth": "ARR $1,200.00",
        "Contract changed: Growth": "ARR $1,200.00 → $1,440.00",
        "Contract renewed: Growth": "ARR $1,440.00 → $1,800.00",
        "Contract cancelled: Growth": "ARR $1,800.00",
    }


def test_contract_values_are_masked_for_a_reader_who_may_not_see_them(account, am, growth) -> None:
    subscription_create(acting_user=am, account=account, start_date=timezone.localdate(), items=_lines(growth))
    [item] = _items(am, account)
    assert item.detail == "ARR $1,200.00"
    with as_fixture():
        viewer = user_create(acting_user=None, username="rita", password=None, roles=["read_only"])
    [masked] = _items(viewer, account)
    assert masked.title == "Contract started: Growth"
    assert "1,200" not in masked.detail and masked.detail == "ARR •••"
    assert masked.data["arr"] is None and masked.data["arr_before"] is None and masked.data["currency"] == "USD"


def _term(account, external_id, start, end, status="active"):
    return Subscription(
        account=account, external_id=external_id, currency="USD", billing_period=12, start_date=start,
        end_date=end, status=status,
    )  # fmt: skip


def test_contracts_written_in_bulk_start_renew_and_cancel_on_their_own_days(account, growth) -> None:
    first = _term(account, "c-1", dt.date(2023, 1, 1), dt.date(2023, 12, 31), status="ended")
    second = _term(account, "c-2", dt.date(2024, 1, 1), dt.date(2024, 12, 31), status="canceled")
    lines = []
    for term, quantity in ((first, 10), (second, 8)):
        items = [SubscriptionItem(product=growth, quantity=Decimal(quantity), unit_price=Decimal("120"))]
        term.mrr, term.arr = subscription_totals(subscription=term, items=items)
        lines.append((term, items))
    with CaptureQueriesContext(connection) as queries:
        subscription_bulk_upsert(
            acting_user=None, creates=[first, second], updates=[], fields=[], lines=lines, today=timezone.localdate(),
            now=timezone.now(),
        )  # fmt: skip
    found = [(e.data["change"], e.occurred_at.date(), e.data["arr"], e.data["arr_before"]) for e in _events(account)]
    assert found == [
        ("started", dt.date(2023, 1, 1), "1200.00", None),
        ("renewed", dt.date(2024, 1, 1), "960.00", "1200.00"),
        ("cancelled", dt.date(2024, 12, 31), "960.00", None),
    ]
    assert {e.data["name"] for e in _events(account)} == {"Growth"}
    assert len(queries) < 25  # the events cost a couple of queries, not one per term


def test_importing_contracts_twice_records_them_once_and_a_changed_term_once(account, growth, write_csv) -> None:
    account.external_id = "nw"
    account.save()
    header = ["account_external_id", "external_id", "billing_period", "start_date", "end_date", "product_code",
              "quantity", "unit_price", "status"]  # fmt: skip
    rows = [["nw", "nw-2024", "annual", "2024-01-01", "2024-12-31", "growth", "10", "120", "ended"],
            ["nw", "nw-2025", "annual", "2025-01-01", "2025-12-31", "growth", "10", "120", "active"]]  # fmt: skip
    path = write_csv("subs.csv", header, rows)
    for _run in range(2):
        assert import_file(acting_user=None, entity="subscriptions", path=path, today=dt.date(2025, 6, 1)).errors == []
    assert [e.data["change"] for e in _events(account)] == ["started", "renewed"]

    rows[1][6] = "12"
    rows[1][8] = "canceled"
    path = write_csv("subs-2.csv", header, rows)
    for _run in range(2):
        import_file(acting_user=None, entity="subscriptions", path=path, today=dt.date(2025, 6, 1))
    last = _events(account)[-1]
    assert [e.data["change"] for e in _events(account)] == ["started", "renewed", "cancelled"]
    assert (last.data["arr_before"], last.data["arr"]) == ("1200.00", "1440.00")
