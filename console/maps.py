"""The console's map: the country's real outline beside a schematic of its regions.

The outline comes from Natural Earth (public domain), derived into data/country_outlines.json
by scripts/build_country_outlines.py (see data/README.md). No openly licensed geometry of
every country's ISO 3166-2 regions could be had, so the regions are a tile map: one tile per
first-level region, in the order of their codes, on a grid. It claims no positions; what it
shows is each region's level (colour, and the number written on the tile) and the people
present there. A country the file lacks gets the tiles alone. Pure layout, no query: the
console's selector gives the rows."""

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

TILE_WIDTH = 168
TILE_HEIGHT = 84
GAP = 8
NAME_LENGTH = 17
OUTLINES = Path(__file__).resolve().parent / "data" / "country_outlines.json"


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
    """The country's outline as one SVG path, drawn at (x, y) in a width x height box."""

    x: int
    y: int
    width: int
    height: int
    path: str


@dataclass(frozen=True)
class TileMap:
    width: int
    height: int
    tiles: list[Tile]
    outline: Outline | None = None


@functools.cache
def _outlines() -> dict[str, list[int | str]]:
    loaded: dict[str, list[int | str]] = json.loads(OUTLINES.read_text())
    return loaded


def country_outline(code: str) -> Outline | None:
    """The country's outline at the map's top left; None for a country the data lacks."""
    found = _outlines().get(code.upper())
    if found is None:
        return None
    width, height, path = found
    return Outline(x=GAP, y=GAP, width=int(width), height=int(height), path=str(path))


def _shorten(name: str) -> str:
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1].rstrip() + "…"


def tile_map(rows: list[RegionRow], *, country_code: str = "") -> TileMap:
    """The country's outline (when known), then the rows on a near-square grid beside it,
    row by row."""
    outline = country_outline(country_code) if country_code else None
    left = outline.x + outline.width + 2 * GAP if outline else 0
    count = max(len(rows), 1)
    columns = max(1, min(count, math.ceil(math.sqrt(count))))
    lines = math.ceil(count / columns)
    tiles = [
        Tile(
            row=row,
            x=left + GAP + (index % columns) * (TILE_WIDTH + GAP),
            y=GAP + (index // columns) * (TILE_HEIGHT + GAP),
            width=TILE_WIDTH,
            height=TILE_HEIGHT,
            label=_shorten(row.name),
        )
        for index, row in enumerate(rows)
    ]
    return TileMap(
        width=left + GAP + columns * (TILE_WIDTH + GAP),
        height=max(
            GAP + lines * (TILE_HEIGHT + GAP), outline.y + outline.height + GAP if outline else 0
        ),
        tiles=tiles,
        outline=outline,
    )
