"""What a version would send if approved, and what its approver must confirm.

Advisories sit below the apps that tell people (notifications) or know more of the country
(peers) and cannot ask them: they register here, from their AppConfig.ready(), the previewer
that counts a publication's people and messages with the very SQL its fan-out inserts with
and renders its text messages with the renderer that sends them, and the panels the review
page shows beside it (the partners' levels). The approval service and the review page read
them from here."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from advisories.events import Notify, RegionAdviceChange, RiskLevelChanged
from advisories.models import Advisory
from advisories.publication import (
    PublicationPlan,
    publication_plan,
    publication_plan_between,
    version_replaced,
)
from core.exceptions import ValidationFailed
from regions.selectors import region_names

# Beyond this many parts a text message costs too much and arrives in pieces; the renderer
# aims at two and leaves parts out to stay within three.
SMS_SEGMENTS_MAX = 3


class Reach(Protocol):
    """People and messages, by channel, by region ("" for people with no region) and by
    language; each region's and language's counts hold "people" and one count per channel."""

    @property
    def people(self) -> int: ...
    @property
    def messages(self) -> int: ...
    @property
    def by_channel(self) -> Mapping[str, int]: ...
    @property
    def by_region(self) -> Mapping[str, Mapping[str, int]]: ...
    @property
    def by_language(self) -> Mapping[str, Mapping[str, int]]: ...


@dataclass(frozen=True)
class SmsPreview:
    """The text message one kind of reader gets: those of a changed region, or ("") those
    with no region in the country. `left_out` names what did not fit ("assistance",
    "change_note", "posture", "regions", "note")."""

    language: str
    region_code: str
    text: str
    segments: int
    left_out: tuple[str, ...]


class Previewer(Protocol):
    def reach(self, event: RiskLevelChanged) -> Reach: ...

    def sms(self, event: RiskLevelChanged) -> Sequence[SmsPreview]: ...

    def regions_reached(self, event: RiskLevelChanged) -> Sequence[str]: ...


_previewer: Previewer | None = None


def register_previewer(previewer: Previewer) -> None:
    global _previewer
    _previewer = previewer


def _registered() -> Previewer:
    if _previewer is None:
        raise ImproperlyConfigured("No app registered a publication previewer.")
    return _previewer


# What apps above advisories add to a version's review (partners' levels beside ours): each
# gives the HTML of its section for the version, registered from its AppConfig.ready().
ReviewPanel = Callable[[Advisory], str]
_panels: list[ReviewPanel] = []


def register_panel(panel: ReviewPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def review_panels(*, advisory: Advisory) -> list[str]:
    return [panel(advisory) for panel in _panels]


@dataclass(frozen=True)
class Review:
    """A version as its approver decides on it."""

    previous: Advisory | None  # the version it replaces
    reach_regions: tuple[str, ...]  # the regions whose people are told
    plan: PublicationPlan
    reach: Reach | None  # None when its publication would tell nobody
    sms: tuple[SmsPreview, ...]
    # People registered in regions whose advice changes untold, by region code.
    untold_people: Mapping[str, int]
    warnings: tuple[str, ...]


def _untold_people(
    advisory: Advisory, untold: tuple[RegionAdviceChange, ...], previewer: Previewer
) -> dict[str, int]:
    if not untold:
        return {}
    asked = RiskLevelChanged(
        advisory_id=str(advisory.pk),
        country_code=advisory.country_id,
        changes=(),
        notify_code=Notify.CHANGED_REGIONS.value,
        advice_changes=untold,
    )
    by_region = previewer.reach(asked).by_region
    counts = {
        change.region_code: by_region.get(change.region_code, {}).get("people", 0)
        for change in untold
    }
    return {code: people for code, people in counts.items() if people}


def _warnings(review_reach: Reach | None, untold_people: Mapping[str, int]) -> tuple[str, ...]:
    warnings = []
    if review_reach is None or review_reach.people == 0:
        warnings.append(_("Approving this version tells nobody."))
    if untold_people:
        names = region_names(codes=untold_people)
        warnings.append(
            ngettext(
                "Its advice changes for %(people)d person registered in %(regions)s, who will "
                "not be told.",
                "Its advice changes for %(people)d people registered in %(regions)s, who will "
                "not be told.",
                sum(untold_people.values()),
            )
            % {
                "people": sum(untold_people.values()),
                "regions": ", ".join(sorted(names.get(code, code) for code in untold_people)),
            }
        )
    return tuple(warnings)


def advisory_review(*, advisory: Advisory, with_sms: bool = True) -> Review:
    previewer = _registered()
    previous = version_replaced(advisory=advisory)
    plan = publication_plan_between(previous=previous, advisory=advisory)
    reach = previewer.reach(plan.event) if plan.event is not None else None
    reach_regions = previewer.regions_reached(plan.event) if plan.event is not None else ()
    sms = tuple(previewer.sms(plan.event)) if plan.event is not None and with_sms else ()
    untold = _untold_people(advisory, plan.untold_advice_changes, previewer)
    return Review(
        previous=previous,
        reach_regions=tuple(reach_regions),
        plan=plan,
        reach=reach,
        sms=sms,
        untold_people=untold,
        warnings=_warnings(reach, untold),
    )


def require_confirmation(*, advisory: Advisory, confirmed: bool) -> None:
    """Refuses, unless confirmed, to approve a version that tells nobody or leaves people
    whose advice changes untold."""
    if confirmed:
        return
    warnings = advisory_review(advisory=advisory, with_sms=False).warnings
    if warnings:
        raise ValidationFailed(
            " ".join(warnings) + " " + _("Confirm to approve it anyway."),
            field="confirm_reach",
            code="confirmation_required",
        )


def require_sms_fit(*, advisory: Advisory) -> None:
    """Refuses a version whose regional note cannot be carried by the text message to its
    region within the most parts allowed."""
    plan = publication_plan(advisory=advisory)
    if plan.event is None:
        return
    for preview in _registered().sms(plan.event):
        if preview.region_code and "note" in preview.left_out:
            name = region_names(codes=[preview.region_code]).get(
                preview.region_code, preview.region_code
            )
            raise ValidationFailed(
                _(
                    "The text message to %(region)s cannot carry its regional note (%(language)s) "
                    "within %(max)d SMS parts: shorten the note."
                )
                % {
                    "region": name,
                    "language": dict(settings.LANGUAGES).get(preview.language, preview.language),
                    "max": SMS_SEGMENTS_MAX,
                },
                field="overrides",
                code="sms_too_long",
            )
