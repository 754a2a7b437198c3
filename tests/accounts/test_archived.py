"""An archived account is no longer worked: it drops out of daily work everywhere, consistently.

Archiving closes its open calls to action (through the close service: audit entries and timeline
events as the archiver's); rules open none on it; the queues, the renewal center, ``renewals_open_due``,
the pipeline board, the forecast's open amounts, the home page, the health portfolio and the
accounts API leave it out. Its history stays: closed CTAs, won deals and revenue. Restoring brings it
back; its CTAs stay closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from tandem.accounts.models import Account, LifecycleStage, live_account_q
from tandem.accounts.selectors import account_list, portfolio_overview
from tandem.accounts.services import account_archive
from tandem.audit.models import AuditEntry
from tandem.core.errors import DomainError
from tandem.health.models import AccountHealth
from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.opportunities.selectors import forecast, pipeline_board, renewal_center
from tandem.opportunities.services import opportunity_create, renewals_open_due
from tandem.playbooks import selectors as queues
from tandem.playbooks.models import CallToAction, CtaOutcome, CtaStatus, CtaTask, TaskStatus, WorkPool
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import cta_create, rules_evaluate
from tandem.revenue.selectors import revenue_summary
from tandem.timeline.models import EventKind, TimelineEvent
from tandem.users.models import User
from tandem.users.services import user_create
from tests.api.helpers import ApiClient, api_fixture  # noqa: F401 - the ``api`` fixture
from tests.factories import (
    AccountFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    TicketFactory,
    as_fixture,
)
from tests.opportunities.test_services import am, contract  # noqa: F401 - fixtures
from tests.playbooks.helpers import rule_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 10, 1)
ADMIN = User(is_superuser=True, is_active=True)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def csm():
    with as_fixture():
        return user_create(acting_user=None, username="casey", password=None, roles=["csm"])


@pytest.fixture
def manager():
    with as_fixture():
        return user_create(acting_user=None, username="morgan", password=None, roles=["cs_manager"])


def _cta(account: Account, owner: User | None, *, pool: WorkPool | None = None, **extra) -> CallToAction:
    with as_fixture():
        cta = CallToAction.objects.create(
            account=account,
            owner=owner,
            pool=pool,
            type="risk",
            title=f"Call {account.name}",
            opened_on=TODAY - dt.timedelta(days=10),
            due_date=extra.pop("due_date", TODAY - dt.timedelta(days=1)),
            **extra,
        )
        CtaTask.objects.create(cta=cta, position=1, title="Call them", assignee=owner, due_date=cta.due_date)
    return cta


def _archive(account: Account) -> Account:
    with as_fixture():
        return account_archive(acting_user=None, account=account)


def _renewal(account: Account, *, days: int, stage: str = Stage.PROPOSE, **extra) -> Opportunity:
    with as_fixture():
        return Opportunity.objects.create(
            account=account,
            kind=extra.pop("kind", OpportunityKind.RENEWAL),
            name="Renewal",
            stage=stage,
            probability=Decimal("70"),
            amount=Decimal("1000"),
            current_arr=Decimal("1000"),
            close_date=TODAY + dt.timedelta(days=days),
            **extra,
        )


# --- archiving closes the open CTAs ----------------------------------------------------------------


def test_archiving_closes_open_ctas_as_not_needed_with_audit_entries_and_timeline_events(csm):
    account = AccountFactory(name="Initech", csm_owner=csm)
    open_cta = _cta(account, csm)
    snoozed = _cta(account, csm, status=CtaStatus.SNOOZED, snoozed_until=TODAY + dt.timedelta(days=5))
    done = _cta(account, csm, status=CtaStatus.CLOSED, closed_at=timezone.now(), outcome=CtaOutcome.SUCCESS)
    other = _cta(AccountFactory(csm_owner=csm), csm)

    account_archive(acting_user=csm, account=account)

    for cta in (open_cta, snoozed):
        cta.refresh_from_db()
        assert (cta.status, cta.outcome, cta.close_reason) == (
            CtaStatus.CLOSED,
            CtaOutcome.NOT_NEEDED,
            "Account archived.",
        )
        assert cta.snoozed_until is None and cta.closed_at is not None
        assert list(cta.tasks.values_list("status", flat=True)) == [TaskStatus.SKIPPED]
        entry = AuditEntry.objects.get(
            content_type=ContentType.objects.get_for_model(CallToAction),
            object_id=cta.pk,
            action=AuditEntry.Action.UPDATE,
        )
        assert entry.actor == csm and entry.account_id == account.pk
        assert entry.changes["status"][1] == "closed" and entry.changes["outcome"] == ["", "not_needed"]
        event = TimelineEvent.objects.get(kind=EventKind.CTA_CLOSED, target_id=cta.pk)
        assert (event.account_id, event.actor_id, event.data["outcome"]) == (account.pk, csm.pk, "not_needed")
    done.refresh_from_db()
    assert done.outcome == CtaOutcome.SUCCESS  # already closed: untouched
    other.refresh_from_db()
    assert other.is_open  # another account's
    archived = AuditEntry.objects.get(
        content_type__model="account", object_id=account.pk, action=AuditEntry.Action.UPDATE
    )
    assert archived.actor == csm and "archived_at" in archived.changes


def test_archiving_twice_closes_nothing_more_and_restoring_keeps_the_ctas_closed(csm):
    account = AccountFactory(csm_owner=csm)
    cta = _cta(account, csm)
    account_archive(acting_user=csm, account=account)
    cta.refresh_from_db()
    closed_at = cta.closed_at

    account_archive(acting_user=csm, account=account)  # already archived: nothing happens
    account_archive(acting_user=csm, account=account, archived=False)

    cta.refresh_from_db()
    assert (cta.status, cta.closed_at) == (CtaStatus.CLOSED, closed_at)
    assert TimelineEvent.objects.filter(kind=EventKind.CTA_CLOSED, target_id=cta.pk).count() == 1
    assert account_list(user=ADMIN).filter(pk=account.pk).exists()  # back in the list


def test_a_failing_close_rolls_the_archive_back(csm, monkeypatch):
    account = AccountFactory(csm_owner=csm)
    cta = _cta(account, csm)

    def refuse(**kwargs):
        raise DomainError("no")

    monkeypatch.setattr("tandem.playbooks.services.cta_close", refuse)
    with pytest.raises(DomainError):
        account_archive(acting_user=csm, account=account)
    account.refresh_from_db()
    cta.refresh_from_db()
    assert account.archived_at is None and cta.is_open  # one transaction


def test_archiving_from_the_page_closes_the_ctas_as_the_user(csm):
    account = AccountFactory(csm_owner=csm)
    cta = _cta(account, csm)
    client = Client()
    client.force_login(csm)

    assert client.post(f"/accounts/{account.pk}/archive/").status_code == 302

    cta.refresh_from_db()
    assert cta.outcome == CtaOutcome.NOT_NEEDED
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(CallToAction), object_id=cta.pk, action=AuditEntry.Action.UPDATE
    )
    assert (entry.actor, entry.via) == (csm, "ui")
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "New task" not in page and "Restore" in page  # no new work on an archived account


# --- rules and new work -------------------------------------------------------------------------


def test_rules_open_no_cta_on_an_archived_account_and_do_again_once_restored():
    live = AccountFactory(renewal_date=TODAY + dt.timedelta(days=10))
    gone = AccountFactory(renewal_date=TODAY + dt.timedelta(days=10))
    _archive(gone)
    rule = rule_for("renewal_within", {"days": 30})

    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert set(CallToAction.objects.filter(rule=rule).values_list("account_id", flat=True)) == {live.pk}

    with as_fixture():
        account_archive(acting_user=None, account=gone, archived=False)
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert set(CallToAction.objects.filter(rule=rule).values_list("account_id", flat=True)) == {live.pk, gone.pk}


def test_no_cta_or_opportunity_is_opened_by_hand_on_an_archived_account(csm):
    account = _archive(AccountFactory(csm_owner=csm))
    with pytest.raises(DomainError) as cta_error:
        cta_create(acting_user=csm, account=account, title="Call", type="risk", owner=csm, due_date=TODAY, today=TODAY)
    with pytest.raises(DomainError) as deal_error:
        opportunity_create(
            acting_user=csm, account=account, kind=OpportunityKind.UPSELL, amount=Decimal("10"), close_date=TODAY
        )
    assert [e.field for e in cta_error.value.errors] == ["account"]
    assert [e.field for e in deal_error.value.errors] == ["account"]
    assert not CallToAction.objects.exists() and not Opportunity.objects.exists()


# --- queues ---------------------------------------------------------------------------------------


def test_queues_leave_out_the_ctas_of_archived_accounts(csm):
    """Guarded reads: even a CTA left open on an archived account (archived before CTAs were closed on
    archiving, or written around the service) shows in no queue."""
    pool = WorkPool.objects.create(name="Low touch")
    live = AccountFactory(name="Live", csm_owner=csm)
    gone = AccountFactory(name="Gone", csm_owner=csm)
    kept = [_cta(live, csm), _cta(live, csm, pool=pool)]
    _cta(gone, csm)
    _cta(gone, csm, pool=pool)
    with as_fixture():
        Account.objects.filter(pk=gone.pk).update(archived_at=timezone.now())  # around the service

    assert [c.pk for c in queues.my_day(user=csm, today=TODAY)] == [c.pk for c in kept]
    summary = queues.queue_summary(user=csm, today=TODAY)
    assert (summary.total, summary.overdue) == (2, 2)
    assert [c.pk for c in queues.pool_queue(pool=pool, today=TODAY)] == [kept[1].pk]
    (row,) = queues.team_queues(today=TODAY)
    assert (row.user_id, row.open, row.overdue) == (csm.pk, 2, 2)
    assert {c.account_id for c in queues.sla_breaches(today=TODAY)} == {live.pk}


def test_my_day_page(csm):
    _cta(AccountFactory(name="Live Co", csm_owner=csm), csm)
    _cta(AccountFactory(name="Gone Co", csm_owner=csm, archived_at=timezone.now()), csm)
    client = Client()
    client.force_login(csm)
    page = client.get("/playbooks/my-day/").content.decode()
    assert "Live Co" in page and "Gone Co" not in page


# --- renewals, the pipeline, the forecast and the home page ---------------------------------------


def test_no_renewal_opportunity_opens_for_an_archived_account(contract):  # noqa: F811
    account, _term, _seat = contract
    _archive(account)
    assert renewals_open_due(acting_user=None, today=TODAY) == []
    with as_fixture():
        account_archive(acting_user=None, account=account, archived=False)
    assert [o.account_id for o in renewals_open_due(acting_user=None, today=TODAY)] == [account.pk]


def test_renewal_center_lists_open_renewals_of_live_accounts_and_keeps_closed_ones():
    live, gone = AccountFactory(name="Live"), AccountFactory(name="Gone")
    kept = _renewal(live, days=30)
    _renewal(gone, days=30)
    history = _renewal(gone, days=-10, stage=Stage.CLOSED_WON, closed_on=TODAY - dt.timedelta(days=10))
    _archive(gone)

    center = renewal_center(today=TODAY, user=ADMIN, horizon_days=90)

    assert [row.opportunity.pk for row in center.open] == [kept.pk]
    assert center.totals["current_arr"] == Decimal("1000")
    assert [o.pk for o in center.closed] == [history.pk]


def test_home_page_and_renewal_center_count_the_same_renewals(manager, csm):
    today = timezone.localdate()
    mine = AccountFactory(name="Mine", csm_owner=csm, arr=Decimal("5000"), lifecycle_stage=LifecycleStage.ADOPTION)
    gone = AccountFactory(
        name="Gone Corp", csm_owner=csm, arr=Decimal("7000"), lifecycle_stage=LifecycleStage.ONBOARDING
    )
    for account in (mine, gone):
        with as_fixture():
            Opportunity.objects.create(
                account=account,
                kind=OpportunityKind.RENEWAL,
                name="Renewal",
                stage=Stage.PROPOSE,
                probability=Decimal("70"),
                amount=account.arr,
                current_arr=account.arr,
                close_date=today + dt.timedelta(days=20),
            )
    TicketFactory(account=gone, subject="Gone ticket", status="open")
    _archive(gone)

    for user, params in ((manager, "?horizon=90"), (csm, "?horizon=90&mine=1")):
        overview = portfolio_overview(user=user, today=today)
        assert (overview.account_count, overview.renewals_count, overview.onboarding_count) == (1, 1, 0)
        assert overview.open_tickets == []
        center = renewal_center(today=today, user=user, horizon_days=90, book_of=None if "mine" not in params else user)
        assert len(center.open) == overview.renewals_count
        client = Client()
        client.force_login(user)
        home = client.get("/").content.decode()
        renewals = client.get(f"/opportunities/renewals/{params}").content.decode()
        assert 'data-testid="kpi-renewals">1</span>' in home and 'data-testid="kpi-accounts">1</span>' in home
        assert 'data-testid="list-total">1</span>' in renewals
        assert "Gone Corp" not in home and "Gone Corp" not in renewals and "Gone ticket" not in home
    manager_home = portfolio_overview(user=manager, today=today)
    assert (manager_home.arr, manager_home.renewals_arr) == (Decimal("5000"), Decimal("5000"))


def test_pipeline_board_hides_open_deals_of_archived_accounts_but_keeps_closed_ones():
    live, gone = AccountFactory(), AccountFactory()
    kept = _renewal(live, days=30, kind=OpportunityKind.UPSELL)
    _renewal(gone, days=30, kind=OpportunityKind.UPSELL)
    won = _renewal(gone, days=-5, kind=OpportunityKind.UPSELL, stage=Stage.CLOSED_WON, closed_on=TODAY)
    _archive(gone)

    board = {c.stage: c for c in pipeline_board(user=ADMIN)}

    assert [o.pk for o in board[Stage.PROPOSE].opportunities] == [kept.pk]
    assert board[Stage.PROPOSE].amount == Decimal("1000")
    assert [o.pk for o in board[Stage.CLOSED_WON].opportunities] == [won.pk]


def test_forecast_leaves_out_open_amounts_of_archived_accounts_but_keeps_what_they_closed(am):  # noqa: F811
    live, gone = AccountFactory(am_owner=am), AccountFactory(am_owner=am)
    _renewal(live, days=10, owner=am, forecast_category="best_case")
    _renewal(gone, days=10, owner=am, forecast_category="best_case")
    _renewal(gone, days=5, owner=am, stage=Stage.CLOSED_WON, closed_on=TODAY + dt.timedelta(days=5))
    _archive(gone)

    rows, team = forecast(period_start=dt.date(2025, 10, 1), period_end=dt.date(2025, 12, 31))

    assert (rows[0].best_case, rows[0].open_count, rows[0].won_renewal) == (Decimal("1000"), 1, Decimal("1000"))
    assert team.forecast_best_case == Decimal("2000")


# --- health, revenue ------------------------------------------------------------------------------


def test_health_portfolio_and_arr_at_risk_leave_archived_accounts_out(manager):
    from tandem.risk.models import AccountRisk
    from tandem.risk.services import arr_at_risk

    live = AccountFactory(name="Live Health", arr=Decimal("1000"))
    gone = AccountFactory(name="Gone Health", arr=Decimal("9000"), archived_at=timezone.now())
    with as_fixture():
        for account, change in ((live, -12.0), (gone, -30.0)):
            AccountHealth.objects.create(account=account, score=40, band="poor", as_of=TODAY, change_30d=change)
            AccountRisk.objects.create(account=account, probability=0.5, as_of=TODAY, model_version="t")

    client = Client()
    client.force_login(manager)
    page = client.get("/health/").content.decode()

    assert "Live Health" in page and "Gone Health" not in page
    assert [(n, arr, count) for n, _risk, arr, count in arr_at_risk()["tier"]] == [("SMB", Decimal("1000.00"), 1)]


def test_revenue_keeps_the_history_of_archived_accounts():
    account = AccountFactory()
    term = SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
    SubscriptionItemFactory(subscription=term, quantity=Decimal(1), unit_price=Decimal("1200"))
    from tandem.subscriptions.services import subscription_recompute_totals

    with as_fixture():
        subscription_recompute_totals(subscription=term)
    before = revenue_summary(start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30)).total
    _archive(account)
    after = revenue_summary(start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30)).total
    assert after == before and after.closing_customers == 1


# --- the accounts API -----------------------------------------------------------------------------


def test_the_accounts_api_lists_like_the_page(api: ApiClient):
    live = AccountFactory(name="Live")
    gone = AccountFactory(name="Gone", archived_at=timezone.now())

    def ids(**params) -> list[int]:
        response = api.get("/accounts/", params)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["items"]]

    assert ids() == [live.pk]
    assert ids(archived="archived") == [gone.pk]
    assert ids(archived="all") == [gone.pk, live.pk]
    assert ids(archived="all", q="Gon") == [gone.pk]
    assert api.get("/accounts/", {"archived": "yes"}).status_code in (400, 422)
    assert api.get(f"/accounts/{gone.pk}").status_code == 200  # still readable by id


def test_the_archived_parameter_is_documented_in_the_schema(api: ApiClient):
    schema = api.client.get("/api/v1/openapi.json").json()
    (operation,) = [op for path, ops in schema["paths"].items() if path == "/api/v1/accounts/" for op in [ops["get"]]]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "archived"]
    assert "archived" in parameter["description"] and "all" in parameter["description"]
    assert "archived=all" in operation["description"]


def test_live_account_q_reaches_accounts_through_a_path():
    live, gone = AccountFactory(), AccountFactory(archived_at=timezone.now())
    assert list(Account.objects.live()) == [live] and list(Account.objects.archived()) == [gone]
    assert list(Account.objects.filter(live_account_q(""))) == [live]
    assert set(Account.objects.by_archived("all")) == {live, gone}


def test_a_book_of_business_report_covers_live_accounts_only(am, event_store):  # noqa: F811
    from tandem.reports.services import report_render

    AccountFactory(name="Live Book", am_owner=am)
    AccountFactory(name="Gone Book", am_owner=am, archived_at=timezone.now())

    html, _name = report_render(book_username=am.username, fmt="html", reader=None)

    assert "Live Book" in html.decode() and "Gone Book" not in html.decode()
