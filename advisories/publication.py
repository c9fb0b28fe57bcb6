"""What publishing a version changes and whom it asks to be told: computed once, by the same
code, when it is published and when an approver looks at it before approving."""

from dataclasses import dataclass

from advisories.events import Notify, RegionAdviceChange, RegionLevelChange, RiskLevelChanged
from advisories.models import Advisory
from advisories.selectors import RegionAdvice, advisory_current, advisory_region_advice


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
    new_advice = advisory_region_advice(advisory=advisory)
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
