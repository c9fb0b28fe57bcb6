"""What changed between two versions of a country's advisory, for the public history page."""

import difflib
import re
from dataclasses import dataclass

from advisories.models import Advisory, Indicator
from advisories.selectors import advisory_levels
from regions.selectors import regions_of_country

TEXTS = ("summary", "body", "instructions", "assistance_note")


@dataclass(frozen=True)
class Segment:
    kind: str  # "same", "added" or "removed"
    text: str


@dataclass(frozen=True)
class TextDiff:
    field: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class RegionDiff:
    code: str
    name: str
    old_level: int | None
    new_level: int | None


@dataclass(frozen=True)
class AdvisoryComparison:
    old: Advisory
    new: Advisory
    level_changed: bool
    posture_changed: bool
    indicators_added: tuple[str, ...]
    indicators_removed: tuple[str, ...]
    regions: tuple[RegionDiff, ...]
    texts: tuple[TextDiff, ...]


def _words(text: str) -> list[str]:
    return re.findall(r"\S+|\s+", text)


def text_diff(old: str, new: str) -> tuple[Segment, ...]:
    """Word-level differences, so a changed sentence reads as a sentence."""
    before, after = _words(old), _words(new)
    segments = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("removed", "".join(before[i1:i2])))
        if j2 > j1:
            segments.append(Segment("added", "".join(after[j1:j2])))
    return tuple(segments)


def advisories_compare(*, old: Advisory, new: Advisory, language: str) -> AdvisoryComparison:
    old_levels = advisory_levels(advisory=old)
    new_levels = advisory_levels(advisory=new)
    names = {region.code: region.name for region in regions_of_country(country_code=new.country_id)}
    labels = dict(Indicator.choices)
    texts = []
    for field in TEXTS:
        before, after = old.localized(field, language), new.localized(field, language)
        if before != after:
            texts.append(TextDiff(field=field, segments=text_diff(before, after)))
    return AdvisoryComparison(
        old=old,
        new=new,
        level_changed=old.country_level != new.country_level,
        posture_changed=old.posture != new.posture,
        indicators_added=tuple(
            str(labels[code]) for code in new.indicators if code not in old.indicators
        ),
        indicators_removed=tuple(
            str(labels[code]) for code in old.indicators if code not in new.indicators
        ),
        regions=tuple(
            RegionDiff(
                code=code,
                name=names.get(code, code),
                old_level=old_levels.get(code),
                new_level=new_levels.get(code),
            )
            for code in sorted(set(old_levels) | set(new_levels))
            if old_levels.get(code) != new_levels.get(code)
        ),
        texts=tuple(texts),
    )
