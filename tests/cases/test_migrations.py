"""The migration that stops storing the system's case summaries as rendered sentences."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("geography")]

BEFORE = [("cases", "0004_safety_check_approval")]
AFTER = [("cases", "0005_case_summary_said_in_the_readers_language")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_summaries_the_system_wrote_are_forgotten_and_staffs_are_kept(bamako_officer):
    old = _migrate(BEFORE)
    Case = old.get_model("cases", "Case")
    post_id = Post.objects.get(code="post-ml").id
    rendered = Case.objects.create(
        kind="welfare",
        source="no_response",
        post_id=post_id,
        country_id="ML",
        summary="No answer to safety check AB12",
    )
    written = Case.objects.create(
        kind="welfare", source="staff", post_id=post_id, country_id="ML", summary="Walk-in"
    )

    new = _migrate(AFTER)

    Case = new.get_model("cases", "Case")
    assert Case.objects.get(id=rendered.id).summary == ""
    assert Case.objects.get(id=written.id).summary == "Walk-in"
