"""Level schemes and the effective-level rule, kept free of queries so every reader (selectors,
API, pages, feeds) computes levels the same way."""

from collections.abc import Collection, Iterable, Mapping

# Each language has its own official scheme, not a translation of the other's words.
LEVEL_NAMES: dict[str, tuple[str, str, str, str]] = {
    "en": (
        "Exercise normal precautions",
        "Exercise increased caution",
        "Reconsider travel",
        "Do not travel",
    ),
    "fr": (
        "Vigilance normale",
        "Vigilance renforcée",
        "Déconseillé sauf raison impérative",
        "Formellement déconseillé",
    ),
}

LEVEL_COLOURS: dict[int, str] = {1: "green", 2: "yellow", 3: "orange", 4: "red"}


def level_name(*, level: int, language: str) -> str:
    """The level's name in the language's scheme (English for languages without one)."""
    scheme = LEVEL_NAMES.get(language[:2].lower(), LEVEL_NAMES["en"])
    return scheme[level - 1]


def level_colour(*, level: int) -> str:
    return LEVEL_COLOURS[level]


def effective_levels(
    *,
    country_level: int,
    overrides: Mapping[str, int],
    parents: Iterable[tuple[str, str | None]],
) -> dict[str, int]:
    """Level of every region: its own override, else its nearest overridden ancestor's, else
    the country level. `parents` is every region of the country as (code, parent code)."""
    parent_of = dict(parents)
    levels: dict[str, int] = {}

    def resolve(code: str) -> int:
        if code in levels:
            return levels[code]
        if code in overrides:
            level = overrides[code]
        else:
            parent = parent_of.get(code)
            level = resolve(parent) if parent else country_level
        levels[code] = level
        return level

    for code in parent_of:
        resolve(code)
    return levels


def governing_regions(
    *, overridden: Collection[str], parents: Iterable[tuple[str, str | None]]
) -> dict[str, str]:
    """The region whose override governs each region, by the rule of `effective_levels`: its
    own, else its nearest overridden ancestor's. Regions no override governs are absent."""
    parent_of = dict(parents)
    governing: dict[str, str] = {}
    for code in parent_of:
        current: str | None = code
        while current is not None and current not in overridden:
            current = parent_of.get(current)
        if current is not None:
            governing[code] = current
    return governing
