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
