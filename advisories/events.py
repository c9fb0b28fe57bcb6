"""Events advisories publishes (through core.events) for the apps above it."""

from dataclasses import dataclass

from core import events


@dataclass(frozen=True)
class RegionLevelChange:
    region_code: str
    old_level: int | None  # None when the country had no published advisory before
    new_level: int


@events.register("advisories.risk_level_changed")
@dataclass(frozen=True)
class RiskLevelChanged:
    """A publication changed the effective level of at least one region of the country."""

    advisory_id: str  # str(uuid) of the published Advisory
    country_code: str
    changes: tuple[RegionLevelChange, ...]
