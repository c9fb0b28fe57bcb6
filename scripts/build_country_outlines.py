"""Derive console/data/country_outlines.json from Natural Earth's countries as the npm package
`world-atlas` (2.0.2) ships them (`countries-50m.json`, TopoJSON): each country's outline,
projected (equirectangular at the country's mean latitude), simplified (Douglas-Peucker) and
fitted in a BOX x BOX box, as one SVG path, by ISO 3166-1 alpha-2 code.

With the data file of the PyPI package `iso3166-2` (1.8.4, `iso3166_2/iso3166-2.json`) as a
second argument, it also writes console/data/region_positions.json: each first-level region's
point (the package's `latLng`) projected and fitted exactly as its country's outline, so the
map can put the region on it. Points outside the outline's box are left out.

Not run by the tests or the build; run it again by hand to refresh the files:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    pip download --no-deps iso3166-2==1.8.4 && unzip iso3166_2-1.8.4-py3-none-any.whl
    .venv/bin/python scripts/build_country_outlines.py package/countries-50m.json \\
        iso3166_2/iso3166-2.json
"""

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import pycountry

BOX = 200
# Points closer than this to the simplified line are dropped, and rings smaller than
# MIN_RING across are left out (islands too small to see), both in box units.
TOLERANCE = 0.6
MIN_RING = 2.0
DATA = Path(__file__).resolve().parent.parent / "console" / "data"
OUTPUT = DATA / "country_outlines.json"
POSITIONS = DATA / "region_positions.json"

Point = tuple[float, float]
Projection = Callable[[Point], Point]


def _arcs(topology: dict) -> list[list[Point]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def _ring(indexes: list[int], arcs: list[list[Point]]) -> list[Point]:
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def _polygons(geometry: dict, arcs: list[list[Point]]) -> list[list[list[Point]]]:
    if geometry["type"] == "Polygon":
        return [[_ring(ring, arcs) for ring in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[_ring(ring, arcs) for ring in polygon] for polygon in geometry["arcs"]]
    return []


def _simplified(points: list[Point], tolerance: float) -> list[Point]:
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1) or 1e-12
        farthest, distance = 0, 0.0
        for index in range(first + 1, last):
            x0, y0 = points[index]
            d = abs((x2 - x1) * (y1 - y0) - (x1 - x0) * (y2 - y1)) / length
            if d > distance:
                farthest, distance = index, d
        if distance > tolerance:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def _outline(polygons: list[list[list[Point]]]) -> tuple[int, int, str, Projection] | None:
    """The outline as (width, height, SVG path), with the projection that fitted it: from
    (longitude, latitude) to the box's (x, y)."""
    rings = [ring for polygon in polygons for ring in polygon if len(ring) > 2]
    if not rings:
        return None
    # A country across the antimeridian (Russia, Fiji) is drawn in one piece.
    longitudes = [x for ring in rings for x, _y in ring]
    wraps = max(longitudes) - min(longitudes) > 180
    if wraps:
        rings = [[(x + 360 if x < 0 else x, y) for x, y in ring] for ring in rings]
    latitudes = [y for ring in rings for _x, y in ring]
    squeeze = math.cos(math.radians((max(latitudes) + min(latitudes)) / 2))
    projected = [[(x * squeeze, -y) for x, y in ring] for ring in rings]
    xs = [x for ring in projected for x, _y in ring]
    ys = [y for ring in projected for _x, y in ring]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1
    scale = BOX / span

    def project(point: Point) -> Point:
        longitude, latitude = point
        if wraps and longitude < 0:
            longitude += 360
        return (longitude * squeeze - min(xs)) * scale, (-latitude - min(ys)) * scale

    width, height = math.ceil((max(xs) - min(xs)) * scale), math.ceil((max(ys) - min(ys)) * scale)
    parts = []
    for ring in projected:
        fitted = [((x - min(xs)) * scale, (y - min(ys)) * scale) for x, y in ring]
        rxs, rys = [x for x, _y in fitted], [y for _x, y in fitted]
        if max(max(rxs) - min(rxs), max(rys) - min(rys)) < MIN_RING:
            continue
        # A closed ring is simplified as two open lines, split at its point farthest from the
        # first (the line from a point to itself measures no distance).
        x0, y0 = fitted[0]
        far = max(
            range(len(fitted)), key=lambda i: math.hypot(fitted[i][0] - x0, fitted[i][1] - y0)
        )
        simple = _simplified(fitted[: far + 1], TOLERANCE)[:-1] + _simplified(
            fitted[far:], TOLERANCE
        )
        if len(simple) < 4:
            continue
        coordinates = " ".join(f"{x:.1f},{y:.1f}".replace(".0,", ",") for x, y in simple[:-1])
        parts.append(f"M{coordinates}Z")
    return (width, height, "".join(parts), project) if parts else None


def _positions(
    subdivisions: dict[str, dict], width: int, height: int, project: Projection
) -> dict[str, list[int]]:
    """The first-level regions' points in the outline's box, rounded to whole units (a
    region is a symbol, not a boundary: finer would add bytes, not truth)."""
    positions = {}
    for code, subdivision in sorted(subdivisions.items()):
        if subdivision.get("parentCode") or not subdivision.get("latLng"):
            continue
        latitude, longitude = subdivision["latLng"]
        x, y = project((longitude, latitude))
        if -1 <= x <= width + 1 and -1 <= y <= height + 1:
            positions[code] = [min(max(round(x), 0), width), min(max(round(y), 0), height)]
    return positions


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(dict(sorted(data.items())), separators=(",", ":")) + "\n")
    print(f"{len(data)} countries written to {path}")


def main(source: str, subdivisions_source: str | None = None) -> None:
    topology = json.loads(Path(source).read_text())
    subdivisions = json.loads(Path(subdivisions_source).read_text()) if subdivisions_source else {}
    arcs = _arcs(topology)
    outlines, positions = {}, {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=geometry.get("id", ""))
        outline = _outline(_polygons(geometry, arcs)) if country else None
        if country and outline:
            width, height, path, project = outline
            outlines[country.alpha_2] = (width, height, path)
            found = _positions(subdivisions.get(country.alpha_2, {}), width, height, project)
            if found:
                positions[country.alpha_2] = found
    _write(OUTPUT, outlines)
    if subdivisions_source:
        _write(POSITIONS, positions)


if __name__ == "__main__":
    main(*sys.argv[1:3])
