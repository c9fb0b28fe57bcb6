import threading

import pytest
from django.db import connection, transaction

from advisories import services
from advisories.models import Advisory
from tests.advisories.conftest import TEXTS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_publications_never_make_two_current_versions(ml_editor, ml_approver):
    approved = []
    for level in (3, 4):
        draft = services.advisory_draft_create(
            country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": level}
        )
        services.advisory_submit(advisory=draft, submitted_by=ml_editor)
        # Park both as approved-but-not-yet-published, then race their publication.
        Advisory.objects.filter(pk=draft.pk).update(status=Advisory.Status.SCHEDULED)
        approved.append(draft)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def publish(advisory: Advisory) -> None:
        try:
            barrier.wait()
            services.advisory_publish(advisory=advisory, published_by=ml_approver)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(advisory,)) for advisory in approved]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    versions = Advisory.objects.filter(country_id="ML").order_by("version")
    assert [advisory.status for advisory in versions] == ["superseded", "published"]
    assert [advisory.version for advisory in versions] == [1, 2]
    assert versions[1].supersedes == versions[0]


def test_a_publication_does_not_wait_for_foreign_key_checks_on_the_country(ml_editor, ml_approver):
    # What the previous publication's alert holds while its foreign keys are checked at
    # commit: a key-share lock on the country and on the version being superseded. A
    # publication waiting for it, while that check waited for the publication, deadlocked.
    first = services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": 3}
    )
    services.advisory_submit(advisory=first, submitted_by=ml_editor)
    services.advisory_approve(advisory=first, approved_by=ml_approver, confirm_reach=True)
    second = services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": 4}
    )
    services.advisory_submit(advisory=second, submitted_by=ml_editor)
    Advisory.objects.filter(pk=second.pk).update(status=Advisory.Status.SCHEDULED)
    locked, release = threading.Event(), threading.Event()

    def hold_key_share_locks() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM regions_country WHERE code = 'ML' FOR KEY SHARE; "
                    "SELECT 1 FROM advisories_advisory WHERE id = %s FOR KEY SHARE",
                    [first.pk],
                )
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_key_share_locks)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '3s'")
            published = services.advisory_publish(advisory=second, published_by=ml_approver)
    finally:
        release.set()
        holder.join(timeout=30)

    assert published.status == Advisory.Status.PUBLISHED
    assert Advisory.objects.get(pk=first.pk).status == Advisory.Status.SUPERSEDED
