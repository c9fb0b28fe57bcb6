"""Fetching the partners' advice, recording it, and warning the posts when a partner moves
above us. Only tasks call these (the beat fetches; a request never reaches the network)."""

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.selectors import staff_of_country
from advisories.selectors import CurrentLevels, current_levels, level_name
from core.queue import enqueue_after_commit
from peers import sources
from peers.models import PartnerAdvice, PeerWarning, SourceState
from regions.selectors import countries_with_codes

logger = logging.getLogger(__name__)

# Who is told of a partner above us: those who write and approve the post's advisories.
WARNED_ROLES = ("editor", "approver")


@dataclass(frozen=True)
class FetchSummary:
    source: str
    ok: bool
    changed: int = 0
    warnings: int = 0
    not_modified: bool = False
    error: str = ""


def _backoff(failures: int) -> timedelta:
    """The wait after `failures` failures in a row: the fetch interval's tenth, doubling,
    at most PEER_BACKOFF_MAX_SECONDS."""
    base = max(settings.PEER_FETCH_SECONDS / 10, 1.0)
    return timedelta(seconds=min(base * 2 ** (failures - 1), settings.PEER_BACKOFF_MAX_SECONDS))


def sources_due(*, now: datetime | None = None) -> list[str]:
    """The enabled sources whose next attempt has come (or that were never fetched)."""
    now = now or timezone.now()
    names = list(sources.enabled_sources())
    waiting = set(
        SourceState.objects.filter(source__in=names, next_attempt_at__gt=now).values_list(
            "source", flat=True
        )
    )
    return [name for name in names if name not in waiting]


@transaction.atomic
def source_claim(*, name: str, now: datetime | None = None) -> bool:
    """Take the source's next attempt for this worker: false when its time has not come, or
    another worker holds it. The claim lasts a task's time limit, after which a fetch that
    died with its worker is tried again."""
    now = now or timezone.now()
    SourceState.objects.get_or_create(source=name)
    state = SourceState.objects.select_for_update().get(source=name)
    if state.next_attempt_at is not None and state.next_attempt_at > now:
        return False
    state.next_attempt_at = now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    state.save(update_fields=["next_attempt_at"])
    return True


def source_fetch(*, name: str, now: datetime | None = None) -> FetchSummary:
    """Fetch one source and record what it says; any failure is recorded on the source (its
    error, a backoff), never raised, so one broken source never stops the others."""
    now = now or timezone.now()
    state, _created = SourceState.objects.get_or_create(source=name)
    markers = dict(
        PartnerAdvice.objects.filter(source=name).values_list("country_id", "source_marker")
    )
    http = sources.http_client()
    try:
        fetched = sources.source_get(name, http=http).fetch(
            etag=state.etag, last_modified=state.last_modified, markers=markers
        )
    except sources.SourceError as exc:
        return _failure(name=name, error=str(exc), now=now)
    except Exception as exc:  # a source's bug is its failure, not the loop's
        logger.exception("peer source %s failed", name)
        return _failure(name=name, error=type(exc).__name__, now=now)
    finally:
        http.close()
    if not fetched.not_modified and not fetched.advice and not fetched.kept:
        # A partner never advises on no country: an empty answer is a changed format, and
        # recording it would drop every country's advice.
        return _failure(name=name, error="no advice in the answer", now=now)
    return _success(name=name, fetched=fetched, now=now)


def _failure(*, name: str, error: str, now: datetime) -> FetchSummary:
    with transaction.atomic():
        state = SourceState.objects.select_for_update().get(source=name)
        state.consecutive_failures += 1
        state.last_attempt_at = now
        state.last_error = error[:300]
        state.next_attempt_at = now + _backoff(state.consecutive_failures)
        state.save()
    logger.warning("peer source %s: %s (failure %d)", name, error, state.consecutive_failures)
    return FetchSummary(source=name, ok=False, error=error)


@transaction.atomic
def _success(*, name: str, fetched: sources.Fetched, now: datetime) -> FetchSummary:
    state = SourceState.objects.select_for_update().get(source=name)
    state.consecutive_failures = 0
    state.last_attempt_at = state.last_success_at = now
    state.last_error = ""
    state.next_attempt_at = now + timedelta(
        seconds=settings.PEER_MORE_SECONDS if fetched.more else settings.PEER_FETCH_SECONDS
    )
    if not fetched.not_modified:
        state.etag, state.last_modified = fetched.etag[:200], fetched.last_modified[:100]
    state.save()
    if fetched.not_modified:
        return FetchSummary(source=name, ok=True, not_modified=True)
    changed = _advice_record(name=name, fetched=fetched, now=now)
    warnings = _warnings_create(changed)
    return FetchSummary(source=name, ok=True, changed=len(changed), warnings=warnings)


def _advice_record(*, name: str, fetched: sources.Fetched, now: datetime) -> list[PartnerAdvice]:
    """Upsert the source's advice for the countries we know; drop the countries it no longer
    lists. Returns the rows whose level changed, or that are new."""
    known = set(
        countries_with_codes(codes={a.country_code for a in fetched.advice}).values_list(
            "code", flat=True
        )
    )
    current = {a.country_id: a for a in PartnerAdvice.objects.filter(source=name)}
    changed: list[PartnerAdvice] = []
    seen: set[str] = set(fetched.kept)
    for advice in _one_per_country(fetched.advice):
        if advice.country_code not in known or advice.country_code in seen:
            continue
        seen.add(advice.country_code)
        row = current.get(advice.country_code)
        fields = {
            "level": advice.level,
            "level_max": advice.level_max,
            "label": advice.label[:200],
            "scope": PartnerAdvice.Scope.PARTS if advice.parts else PartnerAdvice.Scope.WHOLE,
            "has_regional_advice": advice.has_regional_advice or advice.parts,
            "regions": list(advice.regions),
            "key_risks": list(advice.key_risks),
            "summary": advice.summary,
            "link": advice.link[:500],
            "source_published_at": advice.published_at,
            "source_updated_at": advice.updated_at,
            "source_marker": advice.marker[:100],
            "fetched_at": now,
        }
        if row is None:
            row = PartnerAdvice.objects.create(
                source=name,
                country_id=advice.country_code,
                level_changed_at=now,
                previous_level=None,
                **fields,
            )
            changed.append(row)
            continue
        if row.level != advice.level:
            fields["previous_level"] = row.level
            fields["level_changed_at"] = now
            changed.append(row)
        for key, value in fields.items():
            setattr(row, key, value)
        row.save()
    gone = set(current) - seen
    if gone:
        PartnerAdvice.objects.filter(source=name, country_id__in=gone).delete()
    return changed


def _one_per_country(advice: list[sources.Advice]) -> list[sources.Advice]:
    """One advice per country. A source may advise separately for places ISO counts as one
    country (the State Department's Gaza Strip and West Bank are both PS): the highest of
    them is the country's, for a part of it."""
    by_country: dict[str, list[sources.Advice]] = {}
    for item in advice:
        by_country.setdefault(item.country_code, []).append(item)
    return [
        items[0]
        if len(items) == 1
        else replace(max(items, key=lambda item: item.level), parts=True)
        for items in by_country.values()
    ]


def above_ours(*, advice: PartnerAdvice, ours: CurrentLevels | None) -> bool:
    """Whether the partner advises more than we do. Advice for parts of a country compares
    with the highest level we give anywhere in it; advice for the whole country with our
    country level. No published advisory of ours: any partner level above 1 is above."""
    if ours is None:
        return advice.level > 1
    reference = (
        ours.highest_level if advice.scope == PartnerAdvice.Scope.PARTS else ours.country_level
    )
    return advice.level > reference


def _warnings_create(changed: list[PartnerAdvice]) -> int:
    """A warning for each change that leaves the partner above us: first seen above us, or
    risen while we stay below it. A fall, or a rise that stays at or under our level, is
    shown on the staff pages and told to nobody."""
    if not changed:
        return 0
    ours = current_levels(country_codes={row.country_id for row in changed})
    created = 0
    for row in changed:
        if row.previous_level is not None and row.level < row.previous_level:
            continue
        our = ours.get(row.country_id)
        if not above_ours(advice=row, ours=our):
            continue
        try:
            with transaction.atomic():
                warning = PeerWarning.objects.create(
                    advice=row,
                    level_changed_at=row.level_changed_at,
                    level=row.level,
                    previous_level=row.previous_level,
                    our_level=our.country_level if our else None,
                )
        except IntegrityError:
            continue  # this change was already warned of
        enqueue_after_commit("peers.send_peer_warning", str(warning.id))
        created += 1
    return created


def peer_warnings_unsent(*, older_than: timedelta) -> list[str]:
    """Warnings whose send never ran (a lost message, a failed mail), for the beat to retry."""
    cutoff = timezone.now() - older_than
    return [
        str(pk)
        for pk in PeerWarning.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:100]
    ]


def peer_warning_send(*, warning_id: uuid.UUID | str) -> int:
    """Email one warning to the editors and approvers of the posts covering its country, in
    one message. Claimed under its row lock and marked sent in the same transaction, so two
    workers never send it twice; a mail failure rolls back and the beat retries."""
    with transaction.atomic():
        warning = (
            PeerWarning.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("advice", "advice__country")
            .filter(id=warning_id, sent_at__isnull=True)
            .first()
        )
        if warning is None:
            return 0
        addresses = [
            email
            for email in staff_of_country(
                country_code=warning.advice.country_id, roles=WARNED_ROLES
            ).values_list("email", flat=True)
            if email
        ]
        if addresses:
            subject, body = _warning_text(warning)
            send_mail(subject, body, None, addresses)
        warning.sent_at = timezone.now()
        warning.recipients = len(addresses)
        warning.save(update_fields=["sent_at", "recipients", "updated_at"])
    return len(addresses)


def _warning_text(warning: PeerWarning) -> tuple[str, str]:
    """The message in English then French: staff accounts carry no language."""
    advice = warning.advice
    source = sources.source_class(advice.source)
    parts = []
    for language in ("en", "fr"):
        with translation.override(language):
            ours = (
                _("our level is %(level)d (%(name)s)")
                % {
                    "level": warning.our_level,
                    "name": level_name(level=warning.our_level, language=language),
                }
                if warning.our_level
                else _("we have no published advisory")
            )
            parts.append(
                _(
                    "%(partner)s now advises level %(level)d for %(country)s: "
                    "“%(label)s”%(scope)s. Before: %(before)s. For comparison, "
                    "%(ours)s.\nTheir advice: %(link)s\nPartners side by side: %(page)s"
                )
                % {
                    "partner": source.title,
                    "level": warning.level,
                    "country": advice.country.name,
                    "label": advice.label,
                    "scope": _(" (parts of the country)")
                    if advice.scope == PartnerAdvice.Scope.PARTS
                    else "",
                    "before": warning.previous_level or _("not listed"),
                    "ours": ours,
                    "link": advice.link,
                    "page": settings.SITE_URL
                    + reverse("peers:country", args=[advice.country_id.lower()]),
                }
            )
    with translation.override("en"):
        subject = f"[consular] {source.title}: {advice.country.name} level {warning.level}"
    return subject, "\n\n".join(parts)
