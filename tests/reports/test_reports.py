"""The account report in the browser and as a PDF whose pages are rendered to images and checked."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from django.test import Client
from typer.testing import CliRunner

from tandem.cli.app import app
from tandem.subscriptions.services import SubscriptionItemInput, subscription_create
from tandem.users.services import user_create
from tests.computations import finish
from tests.factories import AccountFactory, ProductFactory, TicketFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


@pytest.fixture
def account(event_store):
    am = user_create(
        acting_user=None, username="kate", password=None, first_name="Kate", last_name="Ito", roles=["account_manager"]
    )
    account = AccountFactory(name="Globex Rendering", am_owner=am)
    subscription_create(
        acting_user=None,
        account=account,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2030, 12, 31),
        items=[
            SubscriptionItemInput(product=ProductFactory(code="seat"), quantity=Decimal(12), unit_price=Decimal(1200))
        ],
    )
    TicketFactory(account=account, subject="Export button greyed out")
    return account


def _pages(pdf: bytes):
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    return doc, [doc[i] for i in range(len(doc))]


def test_pdf_pages_render_with_real_content(account, client):
    client.force_login(account.am_owner)
    # Printing runs on a worker: the page shows its progress, then a link to the file.
    pending = client.get(f"/reports/accounts/{account.pk}/?format=pdf").content.decode()
    assert 'data-testid="report-pending"' in pending and 'data-status="queued"' in pending
    ready = finish(client, pending)
    link = re.search(r'href="(/jobs/computations/\d+/file/)"', ready)
    assert link, ready
    response = client.get(link.group(1))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # Nobody else gets the reader's PDF, not even an admin.
    other = Client()
    other.force_login(user_create(acting_user=None, username="boss", password=None, roles=["admin"]))
    assert other.get(link.group(1)).status_code == 404
    _doc, pages = _pages(response.content)
    assert 1 <= len(pages) <= 4
    text = " ".join(p.get_textpage().get_text_range() for p in pages)
    for expected in ("Globex Rendering", "Contract and renewal", "Export button greyed out", "$14,400.00"):
        assert expected in text
    image = pages[0].render(scale=1).to_pil().convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:128]) / sum(histogram)
    assert 0.005 < dark < 0.5  # text on a white page: neither blank nor solid


def test_html_report_and_button_on_the_account_page(account, client):
    client.force_login(account.am_owner)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/reports/accounts/{account.pk}/?format=pdf"' in page

    html = client.get(f"/reports/accounts/{account.pk}/").content.decode()
    assert '<h1 dir="auto">Globex Rendering</h1>' in html and "Export button greyed out" in html


def test_cli_book_report_pdf(account, tmp_path, transactional_db):
    out = tmp_path / "book.pdf"
    result = CliRunner().invoke(app, ["report", "account", "--book", "kate", "--out", str(out)])

    assert result.exit_code == 0, result.output
    _doc, pages = _pages(out.read_bytes())
    assert "Book of business: Kate Ito" in pages[0].get_textpage().get_text_range()


def test_cli_report_needs_exactly_one_target(db):
    assert CliRunner().invoke(app, ["report", "account"]).exit_code == 2


def test_report_shows_the_health_trend_chart_and_30_day_change(account, client, monkeypatch, tmp_path):
    import pyarrow as pa

    from tandem.health.models import AccountHealth, Band, Scorecard
    from tandem.metrics import store

    monkeypatch.setenv("TANDEM_HOME", str(tmp_path))  # snapshots live under TANDEM_HOME
    card = Scorecard.objects.create(name="Overall", is_primary=True, is_active=True)
    for day, score in [(dt.date(2026, 9, 1), 71.0), (dt.date(2026, 10, 1), 64.0), (dt.date(2026, 11, 1), 58.6)]:
        store.write_snapshot(
            "health",
            day,
            pa.table({
                "scorecard_id": pa.array([card.pk], pa.int64()),
                "account_id": pa.array([account.pk], pa.int64()),
                "score": pa.array([score], pa.float64()),
                "band": pa.array([Band.NEUTRAL], pa.string()),
            }),
        )  # fmt: skip
    AccountHealth.objects.create(
        account=account, score=58.6, band=Band.NEUTRAL, as_of=dt.date(2026, 11, 1), change_7d=-1.0, change_30d=-5.4
    )
    client.force_login(account.am_owner)

    html = client.get(f"/reports/accounts/{account.pk}/").content.decode()

    assert "59/100" in html and "-5 in 30 days" in html
    assert "Health trend" in html
    trend_section = html[html.index("Health trend") : html.index("Product usage")]
    assert trend_section.count("<svg") == 1
