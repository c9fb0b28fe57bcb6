"""Geometry of the staff pages' charts, drawn as SVG on the server: shapes whose sizes are
attributes, so no inline style and no script is needed (the CSP forbids both). The alert page's
bars and columns, the safety-check board's share over time."""

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


@dataclass(frozen=True)
class SharePoint:
    at: datetime.datetime
    done: int
    percent: int
    x: float
    y: float


@dataclass(frozen=True)
class ShareChart:
    width: int
    height: int
    points: list[SharePoint]
    # The polyline's `points` attribute: a step line from 0 % at the start to now.
    line: str
    percent: int


SHARE_WIDTH = 300
SHARE_HEIGHT = 100


def share_over_time(
    rows: list[tuple[datetime.datetime, int]],
    *,
    total: int,
    start: datetime.datetime,
    end: datetime.datetime,
) -> ShareChart:
    """The running share of `total` done, from `rows` (a time and how many were done in the
    bucket it starts, in order), as a step line across [start, end] scaled to 0-100 %."""
    span = max((end - start).total_seconds(), 1.0)

    def x_of(at: datetime.datetime) -> float:
        return round(SHARE_WIDTH * min(max((at - start).total_seconds(), 0.0), span) / span, 1)

    def y_of(percent: int) -> float:
        return round(SHARE_HEIGHT * (100 - percent) / 100, 1)

    points, done, coordinates = [], 0, [f"0,{SHARE_HEIGHT}"]
    previous_y = float(SHARE_HEIGHT)
    for at, count in rows:
        done += count
        percent = round(100 * done / total) if total else 0
        point = SharePoint(at=at, done=done, percent=percent, x=x_of(at), y=y_of(percent))
        coordinates += [f"{point.x},{previous_y}", f"{point.x},{point.y}"]
        previous_y = point.y
        points.append(point)
    coordinates.append(f"{SHARE_WIDTH},{previous_y}")
    return ShareChart(
        width=SHARE_WIDTH,
        height=SHARE_HEIGHT,
        points=points,
        line=" ".join(coordinates),
        percent=points[-1].percent if points else 0,
    )
