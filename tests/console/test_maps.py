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
