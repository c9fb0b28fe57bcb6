import pytest

from accounts.models import Membership
from advisories import services
from advisories.models import Advisory
from core import events
from tests.accounts.factories import staff_at


@pytest.fixture
def ml_editor(geography):
    return staff_at("ML", Membership.Role.EDITOR, username="ml-editor")


@pytest.fixture
def ml_approver(geography):
    return staff_at("ML", Membership.Role.APPROVER, username="ml-approver")


@pytest.fixture
def lb_editor(geography):
    return staff_at("LB", Membership.Role.EDITOR, username="lb-editor")


@pytest.fixture
def lb_approver(geography):
    return staff_at("LB", Membership.Role.APPROVER, username="lb-approver")


@pytest.fixture
def risk_events():
    """Every RiskLevelChanged dispatched during the test."""
    from advisories.events import RiskLevelChanged

    seen: list[RiskLevelChanged] = []
    events.subscribe(RiskLevelChanged, seen.append)
    yield seen
    events.unsubscribe(RiskLevelChanged, seen.append)


TEXTS = {
    "summary_en": "Terrorism and kidnapping risk.",
    "summary_fr": "Risque terroriste et d'enlèvement.",
    "instructions_en": "Register your presence and keep in touch with the embassy.",
    "instructions_fr": "Signalez votre présence et restez en contact avec l'ambassade.",
}


def publish(*, country_code, editor, approver, level, overrides=(), **fields) -> Advisory:
    """Draft, submit and approve a version through the services: the path staff take. An
    override is (region code, level), with its notes in English and French if any."""
    draft = services.advisory_draft_create(
        country_code=country_code,
        author=editor,
        fields={**TEXTS, "country_level": level, **fields},
        overrides=[services.OverrideInput(*override) for override in overrides],
    )
    services.advisory_submit(advisory=draft, submitted_by=editor)
    return services.advisory_approve(advisory=draft, approved_by=approver, confirm_reach=True)


MALI_NORTH = [("ML-BKO", 3), *((f"ML-{n}", 4) for n in range(6, 11))]
