import threading

import pytest
from django.db import connection

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
