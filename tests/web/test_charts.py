import datetime as dt

from tandem.usage.selectors import UsageWeekly
from tandem.web.charts import PALETTE, usage_charts

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
    assert html.count('<span class="swatch"') == 7
    assert "<bdi>ev_0</bdi>" in html
