from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.opportunities.services import opportunity_create, renewals_open_due
from tests.factories import as_fixture
from tests.opportunities.test_services import am, contract  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def am_client(client, am):  # noqa: F811
    client.force_login(am)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/opportunities/renewals/",
        "/opportunities/pipeline/",
        "/opportunities/forecast/",
        "/revenue/",
        "/revenue/retention/",
        "/revenue/?by=cohort&granularity=quarter&from=2025-01-01&to=2025-12-31",
    ],
)
def test_pages_render(am_client, contract, url):  # noqa: F811
    with as_fixture():
        renewals_open_due(acting_user=None)
    response = am_client.get(url)
    assert response.status_code == 200
    assert "<svg" in response.content.decode() or "renewals" in url or "pipeline" in url


def test_renewal_center_query_count_does_not_grow_with_rows(am_client, contract, am):  # noqa: F811
    account, _term, _seat = contract
    with as_fixture():
        renewals_open_due(acting_user=None, today=dt.date(2025, 10, 1))
    with CaptureQueriesContext(connection) as one:
        am_client.get("/opportunities/renewals/?horizon=3650")
    for _ in range(5):
        with as_fixture():
            opportunity_create(
                acting_user=None,
                account=account,
                kind=OpportunityKind.ADDON,
                amount=Decimal(10),
                close_date=dt.date(2025, 11, 1),
            )
    with CaptureQueriesContext(connection) as board:
        am_client.get("/opportunities/pipeline/")
    assert len(one) <= 12 and len(board) <= 10


def test_move_stage_with_htmx_returns_the_board(am_client, contract):  # noqa: F811
    account, _term, _seat = contract
    with as_fixture():
        deal = opportunity_create(
            acting_user=None,
            account=account,
            kind=OpportunityKind.UPSELL,
            amount=Decimal(100),
            close_date=dt.date(2026, 1, 1),
        )
    response = am_client.post(f"/opportunities/{deal.pk}/stage/", {"stage": "negotiate"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'class="board"' in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == Stage.NEGOTIATE and deal.probability == Decimal("80")


def test_read_only_users_cannot_change(client, contract):  # noqa: F811
    from tandem.users.services import user_create

    with as_fixture():
        client.force_login(user_create(acting_user=None, username="ro", password=None, roles=["read_only"]))
    assert client.get("/opportunities/renewals/").status_code == 200
    assert client.post("/opportunities/renewals/open-due/").status_code == 403
    assert not Opportunity.objects.exists()


def test_api_create_and_forecast(am_client, contract, am):  # noqa: F811
    account, _term, _seat = contract
    response = am_client.post(
        "/api/v1/opportunities/",
        {
            "account_id": account.pk,
            "kind": "cross_sell",
            "amount": "2500.00",
            "close_date": "2025-11-20",
            "source": "cta",
            "source_ref": "cta-1",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["owner_id"] == am.pk
    bad = am_client.post(
        "/api/v1/opportunities/",
        {"account_id": account.pk, "kind": "renewal", "amount": "1", "close_date": "2025-11-20"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"
    rows = am_client.get("/api/v1/opportunities/forecast?period_start=2025-10-01&period_end=2025-12-31").json()
    assert rows[-1]["forecast_pipeline"] == "2500.00"


def test_api_revenue_and_fit(am_client, contract):  # noqa: F811
    summary = am_client.get("/api/v1/revenue/summary?date_from=2025-01-01&date_to=2025-12-31").json()
    assert summary["total"]["closing_mrr"] == "1100.00" and summary["total"]["new"] == "1100.00"
    fit = am_client.post(
        "/api/v1/revenue/retention/fit",
        {"survivors": [1000, 631, 468, 382, 326, 289, 262, 241]},
        content_type="application/json",
    ).json()
    assert round(fit["alpha"], 3) == 0.704 and round(fit["beta"], 3) == 1.182


def test_account_page_section_lists_open_opportunities(am_client, contract):  # noqa: F811
    account, _term, _seat = contract
    with as_fixture():
        renewals_open_due(acting_user=None, today=dt.date(2025, 10, 1))
    page = am_client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'hx-get="/opportunities/account/{account.pk}/"' in page
    section = am_client.get(f"/opportunities/account/{account.pk}/").content.decode()
    assert "Renewal 2026-01-01" in section and "Probable" in section


def test_renewal_center_shows_health_score_and_risk_as_a_percentage(am_client, contract):  # noqa: F811
    from tandem.accounts.models import Account
    from tandem.health.models import AccountHealth, Band
    from tandem.risk.models import AccountRisk

    account = Account.objects.get()
    with as_fixture():
        AccountHealth.objects.create(account=account, score=41.5, band=Band.POOR, as_of=dt.date(2026, 1, 1))
        AccountRisk.objects.create(
            account=account, probability=0.27, reasons=[], as_of=dt.date(2026, 1, 1), model_version="t"
        )
        renewals_open_due(acting_user=None, today=dt.date(2025, 10, 1))

    html = am_client.get("/opportunities/renewals/?horizon=3650").content.decode()

    assert "<td>42</td>" in html  # 41.5 rounds half to even in floatformat:0 -> 42
    assert '<td class="num">27%</td>' in html
    assert "Snapshot(" not in html


def _open_renewal(contract):  # noqa: F811
    _account, term, _seat = contract
    with as_fixture():
        renewals_open_due(acting_user=None, today=dt.date(2025, 10, 1))
    return Opportunity.objects.get(kind=OpportunityKind.RENEWAL), term.items.get()


@pytest.mark.parametrize(
    ("quantity", "outcome"), [("12", "renewed_expansion"), ("8", "renewed_contraction"), ("10", "renewed")]
)
def test_closing_a_renewal_from_the_page_with_edited_seats_records_the_movement(
    am_client,
    contract,  # noqa: F811
    quantity,
    outcome,
):
    renewal, line = _open_renewal(contract)

    response = am_client.post(
        f"/opportunities/{renewal.pk}/renewal/",
        {"action": "renew", f"quantity_{line.pk}": quantity, f"unit_price_{line.pk}": "1200"},
    )

    assert response.status_code == 302
    renewal.refresh_from_db()
    assert renewal.outcome == outcome
    assert renewal.next_subscription.items.get().quantity == Decimal(quantity)


def test_a_bad_line_value_closes_nothing_and_names_the_field(am_client, contract):  # noqa: F811
    renewal, line = _open_renewal(contract)
    subscriptions_before = renewal.account.subscriptions.count()

    response = am_client.post(
        f"/opportunities/{renewal.pk}/renewal/", {"action": "renew", f"quantity_{line.pk}": "twelve"}, follow=True
    )

    renewal.refresh_from_db()
    assert renewal.is_open and renewal.outcome == ""
    assert renewal.account.subscriptions.count() == subscriptions_before
    assert f"quantity_{line.pk}" in response.content.decode()


def test_api_closes_a_renewal_with_new_lines_and_refuses_an_unknown_product(client, am, contract):  # noqa: F811
    renewal, line = _open_renewal(contract)
    client.force_login(am)
    url = f"/api/v1/opportunities/{renewal.pk}/close-renewal"

    refused = client.post(url, {"items": [{"product_id": 999999, "quantity": 5, "unit_price": 1}]}, "application/json")
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["items.0.product_id"]
    renewal.refresh_from_db()
    assert renewal.is_open

    closed = client.post(
        url, {"items": [{"product_id": line.product_id, "quantity": 15, "unit_price": 1200}]}, "application/json"
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["outcome"] == "renewed_expansion"


def test_renewal_form_field_names_and_values_are_not_localised(am_client, contract):  # noqa: F811
    renewal, line = _open_renewal(contract)
    # Ids and amounts past 999 must not pick up a thousands separator in field names or values.
    with as_fixture():
        type(line).objects.filter(pk=line.pk).update(unit_price=Decimal("12345.5"))
    renewal_id = renewal.pk

    html = am_client.get(f"/opportunities/{renewal_id}/").content.decode()

    assert f'name="quantity_{line.pk}"' in html
    assert 'value="12345.5000"' in html


def test_retention_page_names_a_bad_margin_instead_of_ignoring_it(am_client, contract):  # noqa: F811
    response = am_client.get("/revenue/retention/?margin=abc&discount_rate=0.1", follow=True)

    assert response.status_code == 200
    assert "Margin: &#x27;abc&#x27; is not a valid number; using the default." in response.content.decode()
