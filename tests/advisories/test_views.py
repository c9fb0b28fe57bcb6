import pytest

from accounts.models import Post
from advisories import services
from tests.advisories.conftest import MALI_NORTH, TEXTS, publish


@pytest.fixture
def mali(ml_editor, ml_approver):
    Post.objects.filter(code="post-ml").update(
        name="Embassy in Bamako",
        emergency_phone="+223 70 00 00 00",
        email="consular.bamako@example.org",
    )
    return publish(
        country_code="ML",
        editor=ml_editor,
        approver=ml_approver,
        level=3,
        overrides=MALI_NORTH,
        indicators=["terrorism", "kidnapping"],
        posture="ordered_departure",
        body_en="Armed groups operate in the north.",
        assistance_note_en="Consular help is not guaranteed outside the capital.",
        change_note_en="First publication.",
    )


def test_list_shows_each_country_with_its_level(mali, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/advisories/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mali" in html
    assert 'class="level level-orange"' in html
    assert "No advisory" in html  # Lebanon and France have none
    assert html.index("Mali") < html.index("Countries without a current advisory")
    assert html.index("Countries without a current advisory") < html.index("France")


def test_country_page_shows_levels_posture_risks_texts_and_contacts(mali, client):
    response = client.get("/advisories/ml/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Reconsider travel" in html
    assert '<tr data-region="ML-7">' in html
    gao_row = html.split('<tr data-region="ML-7">')[1].split("</tr>")[0]
    assert "level-red" in gao_row
    bamako_row = html.split('<tr data-region="ML-BKO">')[1].split("</tr>")[0]
    assert "level-orange" in bamako_row
    assert "Ordered departure" in html
    assert "Kidnapping" in html
    assert "Armed groups operate in the north." in html
    assert "Consular help is not guaranteed outside the capital." in html
    assert "+223 70 00 00 00" in html


def test_country_page_in_french_uses_the_french_scheme(mali, client):
    response = client.get("/advisories/ML/", headers={"Accept-Language": "fr"})

    html = response.content.decode()
    assert "Déconseillé sauf raison impérative" in html
    assert "Formellement déconseillé" in html
    assert TEXTS["summary_fr"].replace("'", "&#x27;") in html


def test_country_without_advisory_says_so(client, geography):
    response = client.get("/advisories/LB/")

    assert response.status_code == 200
    assert "no current travel advisory" in response.content.decode()


def test_unknown_country_is_404(client, geography):
    assert client.get("/advisories/ZZ/").status_code == 404
    assert client.get("/advisories/feed/").status_code == 404


def test_history_lists_versions_and_compares_them(mali, ml_editor, ml_approver, client):
    draft = services.advisory_draft_create(
        country_code="ML",
        author=ml_editor,
        fields={
            "country_level": 4,
            "body_en": "Armed groups operate in the whole country.",
            "change_note_en": "Whole country raised to level 4.",
        },
        overrides=[],
    )
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)
    second = services.advisory_approve(advisory=draft, approved_by=ml_approver, confirm_reach=True)

    history = client.get("/advisories/ML/history/").content.decode()
    compare_url = f"/advisories/ML/compare/{mali.pk}/{second.pk}/"
    comparison = client.get(compare_url).content.decode()

    assert "Whole country raised to level 4." in history
    assert "First publication." in history
    assert compare_url in history
    assert '<tr data-region="ML-BKO">' in comparison
    assert '<tr data-region="ML-7">' not in comparison  # was 4, still 4
    assert "in the <del>north.</del><ins>whole country.</ins>" in comparison


def test_compare_refuses_versions_of_another_country(mali, lb_editor, lb_approver, client):
    lebanon = publish(country_code="LB", editor=lb_editor, approver=lb_approver, level=2)

    assert client.get(f"/advisories/ML/compare/{mali.pk}/{lebanon.pk}/").status_code == 404


def test_drafts_never_show_on_public_pages(ml_editor, client, geography):
    services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": 4}
    )

    assert "Terrorism and kidnapping risk." not in client.get("/advisories/ML/").content.decode()
    assert client.get("/advisories/ML/cap.xml").status_code == 404
