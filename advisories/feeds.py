from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from advisories.levels import level_name
from advisories.models import Advisory
from advisories.selectors import advisories_public

FEED_SIZE = 50


class AdvisoryFeed(Feed[Advisory, None]):
    """One entry per publication, newest first; an entry's id is its version's uuid, so
    readers never see the same publication twice."""

    feed_type = Atom1Feed
    title = _("Travel advisories")
    subtitle = _("Every new version of a country's travel advisory, as it is published.")

    # Absolute on SITE_URL, as the CAP message and the messages link: left relative, Django
    # would complete them with whatever host the request named.
    def link(self) -> str:
        return settings.SITE_URL + reverse("advisories:list")

    def feed_url(self) -> str:
        return settings.SITE_URL + reverse("advisories:feed")

    def items(self) -> QuerySet[Advisory]:
        return advisories_public().order_by("-published_at")[:FEED_SIZE]

    def item_title(self, item: Advisory) -> str:
        name = level_name(level=item.country_level, language=get_language() or "en")
        return f"{item.country.name}: {name} ({item.country_level}/4)"

    def item_description(self, item: Advisory) -> str:
        change = item.localized("change_note")
        summary = item.localized("summary")
        return f"{change}\n\n{summary}".strip()

    def item_link(self, item: Advisory) -> str:
        path = reverse("advisories:history", kwargs={"code": item.country_id})
        return f"{settings.SITE_URL}{path}#v{item.version}"

    def item_guid(self, item: Advisory) -> str:
        return f"urn:uuid:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Advisory) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Advisory) -> datetime | None:
        return item.published_at
