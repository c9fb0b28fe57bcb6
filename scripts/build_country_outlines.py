"""Derive console/data/country_outlines.json from Natural Earth's countries as the npm package
`world-atlas` (2.0.2) ships them (`countries-50m.json`, TopoJSON): each country's outline,
projected (equirectangular at the country's mean latitude), simplified (Douglas-Peucker) and
fitted in a BOX x BOX box, as one SVG path, by ISO 3166-1 alpha-2 code. Not run by the tests
or the build; run it again by hand to refresh the file:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    .venv/bin/python scripts/build_country_outlines.py package/countries-50m.json
"""

import json
import math
import sys
from pathlib import Path

import pycountry

BOX = 200
# Points closer than this to the simplified line are dropped, and rings smaller than
# MIN_RING across are left out (islands too small to see), both in box units.
TOLERANCE = 0.6
MIN_RING = 2.0
OUTPUT = Path(__file__).resolve().parent.parent / "console" / "data" / "country_outlines.json"

Point = tuple[float, float]


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


def _outline(polygons: list[list[list[Point]]]) -> tuple[int, int, str] | None:
    rings = [ring for polygon in polygons for ring in polygon if len(ring) > 2]
    if not rings:
        return None
    # A country across the antimeridian (Russia, Fiji) is drawn in one piece.
    longitudes = [x for ring in rings for x, _y in ring]
    if max(longitudes) - min(longitudes) > 180:
        rings = [[(x + 360 if x < 0 else x, y) for x, y in ring] for ring in rings]
    latitudes = [y for ring in rings for _x, y in ring]
    squeeze = math.cos(math.radians((max(latitudes) + min(latitudes)) / 2))
    projected = [[(x * squeeze, -y) for x, y in ring] for ring in rings]
    xs = [x for ring in projected for x, _y in ring]
    ys = [y for ring in projected for _x, y in ring]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1
    scale = BOX / span
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
    return (width, height, "".join(parts)) if parts else None


def main(source: str) -> None:
    topology = json.loads(Path(source).read_text())
    arcs = _arcs(topology)
    outlines = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=geometry.get("id", ""))
        outline = _outline(_polygons(geometry, arcs)) if country else None
        if country and outline:
            outlines[country.alpha_2] = outline
    OUTPUT.write_text(json.dumps(dict(sorted(outlines.items())), separators=(",", ":")) + "\n")
    print(f"{len(outlines)} countries written to {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1])
