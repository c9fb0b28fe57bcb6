from console.maps import NAME_LENGTH, RegionRow, tile_map


def row(code: str, name: str = "Gao") -> RegionRow:
    return RegionRow(code=code, name=name, level=3, citizens=1, people=2)


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


def test_a_country_with_an_outline_has_it_at_the_left_and_the_tiles_beside_it():
    layout = tile_map([row(f"ML-{n}") for n in range(1, 11)], country_code="ml")

    assert layout.outline is not None
    assert layout.outline.path.startswith("M")
    assert layout.outline.path.endswith("Z")
    assert max(layout.outline.width, layout.outline.height) == 200
    assert layout.tiles[0].x == layout.outline.x + layout.outline.width + 3 * 8
    assert layout.width == layout.tiles[0].x - 8 + 8 + 4 * 176


def test_a_country_the_outlines_lack_gets_the_tiles_alone():
    layout = tile_map([row("XK-01")], country_code="XK")

    assert layout.outline is None
    assert layout.tiles[0].x == 8
