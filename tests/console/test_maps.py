import pytest

from console.maps import LABELLED, NAME_LENGTH, SCALE, RegionRow, region_map, tile_map

MALI = ["ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-6", "ML-7", "ML-8", "ML-9", "ML-10", "ML-BKO"]


def row(code: str, name: str = "Gao", people: int = 2) -> RegionRow:
    return RegionRow(code=code, name=name, level=3, citizens=1, people=people)


def test_tiles_fill_a_near_square_grid_row_by_row():
    layout = tile_map([row(f"ML-{n}") for n in range(1, 11)])

    assert [(t.x, t.y) for t in layout.tiles[:5]] == [
        (8, 8),
        (184, 8),
        (360, 8),
        (536, 8),
        (8, 100),
    ]
    assert layout.width == 8 + 4 * 176
    assert layout.height == 8 + 3 * 92


def test_long_names_are_shortened_on_the_tile_only():
    name = "Provence-Alpes-Côte-d'Azur"

    [tile] = tile_map([row("FR-PAC", name)]).tiles

    assert len(tile.label) == NAME_LENGTH
    assert tile.label.endswith("…")
    assert tile.row.name == name


def test_every_region_of_mali_is_a_symbol_inside_the_outline():
    layout = region_map(
        [row(code, people=n * 40) for n, code in enumerate(MALI)], country_code="ml"
    )

    outline = layout.outline
    assert outline is not None
    assert outline.path.startswith("M")
    assert max(outline.width, outline.height) == 200 * SCALE
    assert sorted(marker.row.code for marker in layout.markers) == sorted(MALI)
    assert layout.tiles == []
    for marker in layout.markers:
        assert outline.x <= marker.x <= outline.x + outline.width
        assert outline.y <= marker.y <= outline.y + outline.height
    assert layout.width >= outline.x + outline.width
    assert layout.height >= outline.y + outline.height


def test_symbols_grow_with_the_people_present():
    layout = region_map([row("ML-1", people=0), row("ML-8", people=5000)], country_code="ML")

    radius = {marker.row.code: marker.radius for marker in layout.markers}
    assert radius["ML-8"] > radius["ML-1"]


def test_labels_stay_in_the_map_and_off_each_other_where_they_can():
    layout = region_map([row(code, name=code * 2) for code in MALI], country_code="ML")

    for marker in layout.markers:
        assert 0 <= marker.label_x <= layout.width
        assert 0 <= marker.label_y <= layout.height
    # Bamako sits inside Koulikoro: their labels take different sides.
    bamako, koulikoro = (
        next(m for m in layout.markers if m.row.code == code) for code in ("ML-BKO", "ML-2")
    )
    assert (bamako.anchor, bamako.label_y) != (koulikoro.anchor, koulikoro.label_y)


def test_a_country_of_many_regions_draws_them_all_and_names_those_with_most_people():
    # Slovenia's 212 municipalities, each with a point.
    codes = [f"SI-{n:03d}" for n in range(1, 214) if n != 145]
    layout = region_map([row(code, people=n) for n, code in enumerate(codes)], country_code="SI")

    assert len(layout.markers) == len(codes)
    named = [marker for marker in layout.markers if marker.label]
    assert len(named) == LABELLED
    assert {marker.row.people for marker in named} == set(range(len(codes) - LABELLED, len(codes)))


@pytest.mark.parametrize("code", ["", "ML-XX"])
def test_a_region_without_a_point_and_people_without_a_region_are_tiles_under_the_outline(code):
    layout = region_map([row("ML-1"), row(code, name="No region given")], country_code="ML")

    assert [marker.row.code for marker in layout.markers] == ["ML-1"]
    [tile] = layout.tiles
    assert tile.row.code == code
    assert layout.outline is not None
    assert tile.y > layout.outline.y + layout.outline.height
    assert tile.y + tile.height <= layout.height


def test_a_country_the_outlines_lack_gets_the_tiles_alone():
    layout = region_map([row("XK-01")], country_code="XK")

    assert layout.outline is None
    assert layout.markers == []
    assert layout.tiles[0].x == 8
