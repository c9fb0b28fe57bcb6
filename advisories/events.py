"""Events advisories publishes (through core.events) for the apps above it."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from core import events


class Notify(models.TextChoices):
    """Whom the editor of a version asks to be told when it is published. The event carries
    the code; the app that tells people decides who they are."""

    LEVEL_CHANGES = (
        "level_changes",
        _("Level changes only: the people in regions whose level changed"),
    )
    CHANGED_REGIONS = (
        "changed_regions",
        _("The people in regions whose level or regional advice changed"),
    )
    COUNTRY = "country", _("Everyone in the country")


@dataclass(frozen=True)
class RegionLevelChange:
    region_code: str
    old_level: int | None  # None when the country had no published advisory before
    new_level: int


@dataclass(frozen=True)
class RegionAdviceChange:
    """A region whose regional advice (the note of the region level governing it) changed."""

    region_code: str
    new_level: int  # its level under the published version, changed or not


@events.register("advisories.risk_level_changed")
@dataclass(frozen=True)
class RiskLevelChanged:
    """A publication people are to be told about: it changed the effective level of at least
    one region of the country, or its editor chose to tell more people (`notify_code`, a
    `Notify` value) of what it changed.

    The stored name stays the one of the level changes it first reported, and the later
    fields have defaults, so rows written before they existed still read."""

    advisory_id: str  # str(uuid) of the published Advisory
    country_code: str
    changes: tuple[RegionLevelChange, ...]
    notify_code: str = Notify.LEVEL_CHANGES.value
    advice_changes: tuple[RegionAdviceChange, ...] = ()
