"""Geometry of the alert page's charts, drawn as SVG on the server: rectangles whose sizes are
attributes, so no inline style and no script is needed (the CSP forbids both)."""

import datetime
from dataclasses import dataclass

# The order a bar reads from left to right: done well, on its way, not done.
STATUS_ORDER = (
    "delivered",
    "sent",
    "sending",
    "pending",
    "failed",
    "bounced",
    "ambiguous",
    "suppressed",
    "cancelled",
)


@dataclass(frozen=True)
class Segment:
    status: str
    label: str
    count: int
    x: float  # percent of the bar
    width: float


def stacked_bar(counts: dict[str, int], labels: dict[str, str]) -> list[Segment]:
    """The segments of one bar of 100 units, one per status with a count, in `STATUS_ORDER`."""
    total = sum(counts.values())
    segments, x = [], 0.0
    for status in STATUS_ORDER:
        count = counts.get(status, 0)
        if not count:
            continue
        width = round(100 * count / total, 2)
        segments.append(
            Segment(status=status, label=labels.get(status, status), count=count, x=x, width=width)
        )
        x = round(x + width, 2)
    return segments


@dataclass(frozen=True)
class Column:
    minute: datetime.datetime
    count: int
    x: int
    y: int
    height: int


COLUMN_WIDTH = 8
CHART_HEIGHT = 60
# Half an hour wide at least, so that a minute or two of sending reads as a start, not a wall.
MIN_COLUMNS = 30


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    columns: list[Column]
    peak: int


def per_minute_chart(rows: list[tuple[datetime.datetime, int]]) -> ColumnChart:
    """A column per minute of messages handed off, scaled to the busiest minute; minutes with
    none in between are gaps."""
    if not rows:
        return ColumnChart(width=0, height=CHART_HEIGHT, columns=[], peak=0)
    start = rows[0][0]
    peak = max(count for _minute, count in rows)
    columns = []
    for minute, count in rows:
        index = int((minute - start).total_seconds() // 60)
        height = max(1, round(CHART_HEIGHT * count / peak))
        columns.append(
            Column(
                minute=minute,
                count=count,
                x=index * COLUMN_WIDTH,
                y=CHART_HEIGHT - height,
                height=height,
            )
        )
    width = max(columns[-1].x + COLUMN_WIDTH, MIN_COLUMNS * COLUMN_WIDTH)
    return ColumnChart(width=width, height=CHART_HEIGHT, columns=columns, peak=peak)
