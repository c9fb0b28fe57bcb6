import datetime

from core.charts import MIN_COLUMNS, per_minute_chart, stacked_bar

T0 = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC)


def test_stacked_bar_orders_statuses_and_fills_the_bar():
    segments = stacked_bar({"failed": 1, "delivered": 2, "pending": 1}, {"failed": "Failed"})

    assert [(s.status, s.x, s.width) for s in segments] == [
        ("delivered", 0.0, 50.0),
        ("pending", 50.0, 25.0),
        ("failed", 75.0, 25.0),
    ]
    assert segments[-1].label == "Failed"


def test_per_minute_chart_leaves_gaps_for_quiet_minutes_and_scales_to_the_busiest():
    chart = per_minute_chart([(T0, 10), (T0 + datetime.timedelta(minutes=3), 5)])

    assert [(c.x, c.height, c.y) for c in chart.columns] == [(0, 60, 0), (24, 30, 30)]
    assert chart.width == MIN_COLUMNS * 8
    assert chart.peak == 10
