"""The console's map: the country's real outline with each region a symbol at its place.

The outline comes from Natural Earth (public domain), derived into data/country_outlines.json,
and each first-level region's point from the `iso3166-2` package's data (MIT), projected with
the outline's own fit into data/region_positions.json; both by
scripts/build_country_outlines.py (see data/README.md). No openly licensed boundaries of every
country's ISO 3166-2 regions could be had, so a region is a point, not a polygon: a circle
coloured by the layer (its level, with the number written in it), sized by the people present,
named beside it. A region without a point, and the people whose presence names no region, are
tiles under the outline; a country without an outline gets the tiles alone, in the order of
their codes. Pure layout, no query: the console's selector gives the rows."""

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

TILE_WIDTH = 168
TILE_HEIGHT = 84
GAP = 8
NAME_LENGTH = 17
# The outline's 200-unit box drawn three times larger, so the symbols and their names fit on
# it at a size a tablet can read.
SCALE = 3
# A symbol's radius grows with the people present, slowly (log) so a capital does not hide
# its neighbours: RADIUS with nobody, up to MAX_RADIUS.
RADIUS = 13
MAX_RADIUS = 24
# The labels' size as the stylesheet draws them (two lines: name, then the layer's figure).
LABEL_CHAR = 8
# The figure line ("Nobody asked", "12 with no channel") in name characters' widths.
FIGURE_LENGTH = 15
LABEL_HEIGHT = 34
LABEL_GAP = 4
LABEL_ROUNDS = 3
# At most this many names on the map, those of the regions with the most people: more would
# cover each other (and cost time on every page); the table names every region.
LABELLED = 25
DATA = Path(__file__).resolve().parent / "data"
OUTLINES = DATA / "country_outlines.json"
POSITIONS = DATA / "region_positions.json"


@dataclass(frozen=True)
class RegionRow:
    """One line of the console's table and one tile of its map."""

    code: str  # "" for people whose presence names no region
    name: str
    level: int | None
    citizens: int
    people: int
    # The map's other layers: citizens with no verified channel; and, over the open safety
    # checks, those asked, those who answered, those who need help.
    unreachable: int = 0
    asked: int = 0
    answered: int = 0
    needs_help: int = 0

    @property
    def answered_percent(self) -> int | None:
        return round(100 * self.answered / self.asked) if self.asked else None

    @property
    def check_band(self) -> str:
        """How the open checks stand in the region, for the tile's colour (the tile says it
        in words too): help needed, few answers, most, or nobody asked."""
        if self.needs_help:
            return "help"
        if self.answered_percent is None:
            return "none"
        return "low" if self.answered_percent < 50 else "high"


@dataclass(frozen=True)
class Tile:
    row: RegionRow
    x: int
    y: int
    width: int
    height: int
    label: str  # the name, shortened to fit the tile

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def name_y(self) -> int:
        return self.y + 26

    @property
    def count_y(self) -> int:
        return self.y + 50

    @property
    def level_y(self) -> int:
        return self.y + 72


@dataclass(frozen=True)
class Outline:
    """The country's outline as one SVG path in its data's box, drawn scale times larger at
    (x, y), in a width x height box."""

    x: int
    y: int
    width: int
    height: int
    path: str
    scale: int = SCALE


@dataclass(frozen=True)
class Marker:
    """A region on the outline: a circle at (x, y), its name and figure at (label_x, label_y)
    (the figure one line lower), anchored "start", "middle" or "end"."""

    row: RegionRow
    x: int
    y: int
    radius: int
    label: str
    label_x: int
    label_y: int
    anchor: str

    @property
    def level_y(self) -> int:
        return self.y + 6

    @property
    def figure_y(self) -> int:
        return self.label_y + 16


@dataclass(frozen=True)
class RegionMap:
    width: int
    height: int
    tiles: list[Tile]
    outline: Outline | None = None
    markers: list[Marker] = field(default_factory=list)


@functools.cache
def _outlines() -> dict[str, list[int | str]]:
    loaded: dict[str, list[int | str]] = json.loads(OUTLINES.read_text())
    return loaded


@functools.cache
def _positions() -> dict[str, dict[str, list[int]]]:
    loaded: dict[str, dict[str, list[int]]] = json.loads(POSITIONS.read_text())
    return loaded


def country_outline(code: str) -> Outline | None:
    """The country's outline at the map's top left; None for a country the data lacks."""
    found = _outlines().get(code.upper())
    if found is None:
        return None
    width, height, path = found
    return Outline(
        x=2 * GAP, y=2 * GAP, width=SCALE * int(width), height=SCALE * int(height), path=str(path)
    )


def _shorten(name: str) -> str:
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1].rstrip() + "…"


def _tiles(rows: list[RegionRow], *, left: int, top: int, columns: int) -> list[Tile]:
    return [
        Tile(
            row=row,
            x=left + GAP + (index % columns) * (TILE_WIDTH + GAP),
            y=top + GAP + (index // columns) * (TILE_HEIGHT + GAP),
            width=TILE_WIDTH,
            height=TILE_HEIGHT,
            label=_shorten(row.name),
        )
        for index, row in enumerate(rows)
    ]


def tile_map(rows: list[RegionRow]) -> RegionMap:
    """The rows on a near-square grid, row by row: the map of a country without an outline."""
    count = max(len(rows), 1)
    columns = max(1, min(count, math.ceil(math.sqrt(count))))
    lines = math.ceil(count / columns)
    return RegionMap(
        width=GAP + columns * (TILE_WIDTH + GAP),
        height=GAP + lines * (TILE_HEIGHT + GAP),
        tiles=_tiles(rows, left=0, top=0, columns=columns),
    )


Box = tuple[float, float, float, float]


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def _cost(box: Box, circles: list[Box], labels: list[Box], width: int, height: int) -> float:
    """How much a label there would hide: a symbol counts three times a label (a hidden
    circle hides a level), and leaving the map rules the place out."""
    outside = box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height
    return (
        (1e6 if outside else 0)
        + 3 * sum(_overlap(box, circle) for circle in circles)
        + sum(_overlap(box, label) for label in labels)
    )


def _least(
    options: list[tuple[str, Box]], circles: list[Box], labels: list[Box], width: int, height: int
) -> int:
    """The option that hides least, the first of equals; a place that hides nothing ends the
    search (most labels find one at once)."""
    best, least = 0, math.inf
    for index, (_anchor, box) in enumerate(options):
        cost = _cost(box, circles, labels, width, height)
        if cost < least:
            best, least = index, cost
        if not cost:
            break
    return best


def _radius(people: int) -> int:
    return min(MAX_RADIUS, RADIUS + round(3 * math.log10(1 + people)))


def _sides(x: int, y: int, radius: int, span: int) -> list[tuple[str, Box]]:
    """Where a label may go, in order of preference: right, left (level with the circle,
    then a little lower or higher), above, below, then the four diagonals; each as its text
    anchor and its box."""
    d = radius + LABEL_GAP
    e = round(0.7 * radius) + LABEL_GAP
    h = LABEL_HEIGHT
    sides: list[tuple[str, Box]] = []
    for top in (y - 18, y - 8, y - 28):
        sides += [
            ("start", (x + d, top, x + d + span, top + h)),
            ("end", (x - d - span, top, x - d, top + h)),
        ]
    return [
        *sides,
        ("middle", (x - span / 2, y - d - h, x + span / 2, y - d)),
        ("middle", (x - span / 2, y + d, x + span / 2, y + d + h)),
        ("start", (x + e, y - e - h, x + e + span, y - e)),
        ("start", (x + e, y + e, x + e + span, y + e + h)),
        ("end", (x - e - span, y - e - h, x - e, y - e)),
        ("end", (x - e - span, y + e, x - e, y + e + h)),
    ]


def _markers(placed: list[tuple[RegionRow, int, int]], width: int, height: int) -> list[Marker]:
    """Each symbol with its label where it hides the least of the other symbols and labels,
    inside the map: placed one by one, the biggest symbols first (the places people are get
    the best sides), then each placed again among all the others, a few rounds, so an early
    label can make way for a later one. Only the LABELLED symbols with the most people are
    named; the others keep their circle and title."""
    placed = sorted(placed, key=lambda item: -item[0].people)
    radii = [_radius(row.people) for row, _x, _y in placed]
    circles: list[Box] = [
        (x - r, y - r, x + r, y + r) for (_row, x, y), r in zip(placed, radii, strict=True)
    ]
    sides = [
        _sides(x, y, r, LABEL_CHAR * max(len(_shorten(row.name)), FIGURE_LENGTH))
        for (row, x, y), r in zip(placed, radii, strict=True)
    ][:LABELLED]
    # What each label could touch, found once: the symbols and labels near its candidates.
    reach = [
        (
            min(box[0] for _anchor, box in options),
            min(box[1] for _anchor, box in options),
            max(box[2] for _anchor, box in options),
            max(box[3] for _anchor, box in options),
        )
        for options in sides
    ]
    near_circles = [
        [
            circle
            for number, circle in enumerate(circles)
            if number != index and _overlap(area, circle)
        ]
        for index, area in enumerate(reach)
    ]
    near_labels = [
        [number for number, other in enumerate(reach) if number != index and _overlap(area, other)]
        for index, area in enumerate(reach)
    ]
    chosen = [0] * len(sides)
    for round_ in range(LABEL_ROUNDS):
        for index, options in enumerate(sides):
            # The first round sees the labels placed before; the later ones see them all.
            labels = [sides[n][chosen[n]][1] for n in near_labels[index] if round_ or n < index]
            chosen[index] = _least(options, near_circles[index], labels, width, height)
    markers = [
        Marker(row=row, x=x, y=y, radius=r, label="", label_x=x, label_y=y, anchor="start")
        for (row, x, y), r in zip(placed, radii, strict=True)
    ]
    for index, options in enumerate(sides):
        anchor, box = options[chosen[index]]
        label_x = {"start": box[0], "end": box[2], "middle": (box[0] + box[2]) / 2}[anchor]
        markers[index] = dataclasses.replace(
            markers[index],
            label=_shorten(markers[index].row.name),
            label_x=round(label_x),
            label_y=round(box[1]) + 14,
            anchor=anchor,
        )
    return markers


def region_map(rows: list[RegionRow], *, country_code: str) -> RegionMap:
    """The country's outline with a symbol per region at its point, and under it a tile for
    each row without one; the tiles alone for a country without an outline."""
    outline = country_outline(country_code)
    if outline is None:
        return tile_map(rows)
    points = _positions().get(country_code.upper(), {})
    placed = []
    unplaced = []
    for row in rows:
        point = points.get(row.code)
        if point is None:
            unplaced.append(row)
        else:
            placed.append((row, outline.x + SCALE * point[0], outline.y + SCALE * point[1]))
    width = outline.x + outline.width + 2 * GAP + max(0, LABEL_CHAR * NAME_LENGTH - 2 * GAP)
    # Labels may hang over the outline's edges: the map leaves room on the right and below.
    columns = max(1, width // (TILE_WIDTH + GAP))
    top = outline.y + outline.height + LABEL_HEIGHT + 2 * GAP
    lines = math.ceil(len(unplaced) / columns)
    return RegionMap(
        width=width,
        height=top + lines * (TILE_HEIGHT + GAP) + GAP if unplaced else top,
        tiles=_tiles(unplaced, left=0, top=top, columns=columns),
        outline=outline,
        markers=_markers(placed, width, top),
    )
