import datetime as dt

from tandem.usage.selectors import UsageWeekly
from tandem.web.charts import PALETTE, chart_css, usage_charts

WEEKS = [dt.date(2026, 1, 5) + dt.timedelta(days=7 * i) for i in range(4)]


def test_every_series_gets_a_legend_entry_in_order_with_its_colour():
    usage = UsageWeekly(
        weeks=WEEKS,
        events_by_feature={f"feature_{i}": [1.0, 2.0, 3.0, 4.0] for i in range(8)},
        other_events=[1.0, 0.0, 0.0, 0.0],
        active_users=[1, 2, 3, 4],
    )

    events_chart, users_chart = usage_charts(usage)

    assert [e.label for e in events_chart.legend] == [f"feature_{i}" for i in range(8)] + ["Other features"]
    assert [e.color for e in events_chart.legend] == list(PALETTE[:9])
    assert users_chart.legend == ()
    # The SVG itself carries no legend (it would be clipped past one row).
    assert 'class="legends"' not in str(events_chart.svg)


def test_legend_is_rendered_as_html_under_the_chart(admin_client, event_store):
    from tandem.usage.eventstore import Event
    from tests.factories import AccountFactory

    account = AccountFactory()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    event_store.append([Event(account_id=account.id, event=f"ev_{i}", ts=now, user_id="u") for i in range(7)])

    response = admin_client.get(f"/accounts/{account.id}/usage-chart/")

    html = response.content.decode()
    assert [f'<span class="swatch series-{n}">' in html for n in range(8)] == [True] * 7 + [False]
    assert "<bdi>ev_0</bdi>" in html


def test_charts_carry_no_inline_script_or_style_for_the_content_security_policy():
    usage = UsageWeekly(weeks=WEEKS, events_by_feature={"login": [1.0, 2.0, 3.0, 4.0]}, active_users=[1, 2, 3, 4])
    for chart in usage_charts(usage):
        svg = str(chart.svg)
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg
        assert 'class="pygal-chart"' in svg


def test_the_shipped_charts_css_is_what_pygal_writes_for_our_style():
    from pathlib import Path

    import tandem.web

    shipped = Path(tandem.web.__file__).parent / "static" / "web" / "charts.css"
    regenerate = (
        "tandem manage shell -v 0 -c \"from tandem.web.charts import chart_css; print(chart_css(), end='')\" "
        "> src/tandem/web/static/web/charts.css"
    )
    assert shipped.read_text() == chart_css(), f"charts.css is stale: {regenerate}"
    assert ".swatch.series-0{background:#4f46e5}" in chart_css()
