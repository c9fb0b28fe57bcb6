from advisories import selectors
from tests.advisories.conftest import TEXTS, publish


def test_digest_speaks_the_citizens_language(ml_editor, ml_approver, settings):
    settings.SITE_URL = "https://consular.example.org"
    published = publish(
        country_code="ML",
        editor=ml_editor,
        approver=ml_approver,
        level=3,
        posture="ordered_departure",
        assistance_note_fr="L'aide consulaire n'est pas garantie hors de la capitale.",
    )

    digest = selectors.advisory_digests(advisory_id=str(published.pk))["fr"]

    assert digest.country_name == "Mali"
    assert digest.country_level == 3
    assert digest.summary == TEXTS["summary_fr"]
    assert digest.assistance_note.startswith("L'aide consulaire")
    assert digest.public_url == "https://consular.example.org/advisories/ML/"
    assert selectors.level_name(level=3, language="fr") == "Déconseillé sauf raison impérative"
    assert selectors.level_name(level=4, language="en") == "Do not travel"


def _publish_with_notes(editor, approver, country_code, level, overrides):
    from advisories import services

    draft = services.advisory_draft_create(
        country_code=country_code,
        author=editor,
        fields={**TEXTS, "country_level": level},
        overrides=[services.OverrideInput(*override) for override in overrides],
    )
    services.advisory_submit(advisory=draft, submitted_by=editor)
    return services.advisory_approve(advisory=draft, approved_by=approver, confirm_reach=True)


def test_advice_for_a_place_is_its_regions_level_and_note(ml_editor, ml_approver, settings):
    settings.SITE_URL = "https://consular.example.org"
    _publish_with_notes(
        ml_editor, ml_approver, "ML", 3, [("ML-7", 4, "Fighting around Gao.", "Combats à Gao.")]
    )

    gao = selectors.advice_current_for_place(country_code="ML", region_code="ML-7", language="fr")
    bamako = selectors.advice_current_for_place(
        country_code="ML", region_code="ML-BKO", language="en"
    )
    anywhere = selectors.advice_current_for_place(
        country_code="ML", region_code=None, language="en"
    )

    assert (gao.place_name, gao.level, gao.level_name) == ("Gao", 4, "Formellement déconseillé")
    assert gao.region_note == "Combats à Gao."
    assert gao.instructions == TEXTS["instructions_fr"]
    assert gao.public_url == "https://consular.example.org/advisories/ML/"
    assert (bamako.place_name, bamako.level, bamako.region_note) == ("Bamako", 3, "")
    assert (anywhere.place_name, anywhere.level) == ("Mali", 3)


def test_advice_for_a_nested_region_is_its_nearest_overridden_ancestors(geography):
    from accounts.models import Membership
    from tests.accounts.factories import staff_at

    editor = staff_at("FR", Membership.Role.EDITOR, username="fr-editor")
    approver = staff_at("FR", Membership.Role.APPROVER, username="fr-approver")
    _publish_with_notes(editor, approver, "FR", 1, [("FR-IDF", 2, "Strikes in Paris.", "")])

    paris = selectors.advice_current_for_place(
        country_code="FR", region_code="FR-75C", language="en"
    )
    lyon = selectors.advice_current_for_place(country_code="FR", region_code="FR-69", language="en")

    assert (paris.level, paris.region_note) == (2, "Strikes in Paris.")
    assert (lyon.level, lyon.region_note) == (1, "")


def test_no_advice_for_a_country_without_a_published_version(geography):
    assert (
        selectors.advice_current_for_place(country_code="LB", region_code=None, language="en")
        is None
    )
