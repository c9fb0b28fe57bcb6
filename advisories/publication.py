"""What publishing a version changes and whom it asks to be told: computed once, by the same
code, when it is published and when an approver looks at it before approving."""

from collections.abc import Collection
from dataclasses import dataclass

from advisories.events import Notify, RegionAdviceChange, RegionLevelChange, RiskLevelChanged
from advisories.models import Advisory, Indicator
from advisories.selectors import RegionAdvice, advisory_current, advisory_region_advice
from regions.selectors import region_names


@dataclass(frozen=True)
class PublicationPlan:
    """The differences between the current version and this one, region by region, and the
    event its publication would publish (None: nobody would be told)."""

    changes: tuple[RegionLevelChange, ...]
    advice_changes: tuple[RegionAdviceChange, ...]
    event: RiskLevelChanged | None

    @property
    def untold_advice_changes(self) -> tuple[RegionAdviceChange, ...]:
        """Regions whose advice changes without their level, which the version's choice
        leaves untold."""
        if self.event is not None and self.event.notify_code != Notify.LEVEL_CHANGES:
            return ()
        changed_levels = {change.region_code for change in self.changes}
        return tuple(
            change for change in self.advice_changes if change.region_code not in changed_levels
        )


def _notes(advice: RegionAdvice | None) -> tuple[str, str]:
    return ("", "") if advice is None else (advice.note_en.strip(), advice.note_fr.strip())


def publication_plan_between(*, previous: Advisory | None, advisory: Advisory) -> PublicationPlan:
    old_advice = advisory_region_advice(advisory=previous) if previous else {}
    return _plan(advisory, old_advice, advisory_region_advice(advisory=advisory))


def _plan(
    advisory: Advisory, old_advice: dict[str, RegionAdvice], new_advice: dict[str, RegionAdvice]
) -> PublicationPlan:
    changes = tuple(
        RegionLevelChange(
            region_code=code,
            old_level=old_advice[code].level if code in old_advice else None,
            new_level=advice.level,
        )
        for code, advice in sorted(new_advice.items())
        if code not in old_advice or old_advice[code].level != advice.level
    )
    advice_changes = tuple(
        RegionAdviceChange(region_code=code, new_level=advice.level)
        for code, advice in sorted(new_advice.items())
        if _notes(advice) != _notes(old_advice.get(code))
    )
    notify = Notify(advisory.notify)
    tells = bool(
        changes or notify == Notify.COUNTRY or (notify == Notify.CHANGED_REGIONS and advice_changes)
    )
    event = (
        RiskLevelChanged(
            advisory_id=str(advisory.pk),
            country_code=advisory.country_id,
            changes=changes,
            notify_code=notify.value,
            advice_changes=advice_changes,
        )
        if tells
        else None
    )
    return PublicationPlan(changes=changes, advice_changes=advice_changes, event=event)


def version_replaced(*, advisory: Advisory) -> Advisory | None:
    """The version this one replaces: the country's current one until it is published, the
    one it superseded after."""
    if advisory.published_at is not None:
        return advisory.supersedes
    return advisory_current(country_code=advisory.country_id)


def publication_plan(*, advisory: Advisory) -> PublicationPlan:
    """What publishing this version now, over the country's current one, would change; for
    a version published already, what its publication changed."""
    previous = version_replaced(advisory=advisory)
    return publication_plan_between(previous=previous, advisory=advisory)


@dataclass(frozen=True)
class RegionChange:
    """A region a version changes, as a reader sees it: the level and the regional note before
    and after, and whether the people there are told."""

    code: str
    name: str
    old_level: int | None
    new_level: int
    old_note: str
    new_note: str
    told: bool


@dataclass(frozen=True)
class VersionDiff:
    """What a version changes over the one it replaces, in words: the regions whose level or
    note changes (by name), and the indicators as labels; the country level and posture are
    read from both versions."""

    advisory: Advisory
    previous: Advisory | None
    plan: PublicationPlan
    regions: list[RegionChange]
    indicators: list[str]
    indicators_before: list[str]

    @property
    def country_level_changed(self) -> bool:
        return (
            self.previous is not None and self.previous.country_level != self.advisory.country_level
        )

    @property
    def posture_changed(self) -> bool:
        return self.previous is not None and self.previous.posture != self.advisory.posture

    @property
    def indicators_changed(self) -> bool:
        return self.previous is not None and self.indicators_before != self.indicators


def indicator_labels(codes: Collection[str]) -> list[str]:
    labels = dict(Indicator.choices)
    return [str(labels.get(code, code)) for code in codes]


def _note(advice: RegionAdvice | None, language: str) -> str:
    if advice is None:
        return ""
    if language.startswith("fr") and advice.note_fr:
        return advice.note_fr
    return advice.note_en


def version_diff(*, advisory: Advisory, language: str, told: Collection[str] = ()) -> VersionDiff:
    """What this version changes (or changed, once published) over the one it replaces, for
    the approver's review and the country's console; `told` names the regions whose people
    its publication tells. A fixed number of queries whatever the number of regions."""
    previous = version_replaced(advisory=advisory)
    old = advisory_region_advice(advisory=previous) if previous else {}
    new = advisory_region_advice(advisory=advisory)
    plan = _plan(advisory, old, new)
    codes = {change.region_code for change in plan.changes} | {
        change.region_code for change in plan.advice_changes
    }
    names = region_names(codes=codes) if codes else {}
    regions = sorted(
        (
            RegionChange(
                code=code,
                name=names.get(code, code),
                old_level=old[code].level if code in old else None,
                new_level=new[code].level,
                old_note=_note(old.get(code), language),
                new_note=_note(new[code], language),
                told=code in told,
            )
            for code in codes
        ),
        key=lambda row: row.name,
    )
    return VersionDiff(
        advisory=advisory,
        previous=previous,
        plan=plan,
        regions=regions,
        indicators=indicator_labels(advisory.indicators),
        indicators_before=indicator_labels(previous.indicators) if previous else [],
    )
