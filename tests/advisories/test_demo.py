from django.core.management import call_command

from advisories.demo import seed_advisories
from advisories.models import Advisory
from advisories.selectors import region_levels


def test_seed_demo_publishes_mali_and_lebanon_by_two_people_once(geography, capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    current = Advisory.objects.filter(status=Advisory.Status.PUBLISHED).select_related(
        "author", "approved_by"
    )
    assert {advisory.country_id for advisory in current} == {"ML", "LB"}
    assert Advisory.objects.count() == 2
    for advisory in current:
        assert advisory.author != advisory.approved_by
    mali = current.get(country_id="ML")
    assert (mali.author.username, mali.approved_by.username) == (
        "bamako-editor",
        "bamako-approver",
    )
    levels = region_levels(country_code="ML")
    assert levels["ML-BKO"] == 3
    assert levels["ML-1"] == 3
    assert {levels[f"ML-{n}"] for n in range(6, 11)} == {4}
    assert "left as it is" in capsys.readouterr().out


def test_seed_advisories_without_the_demo_staff_publishes_nothing(geography):
    lines = seed_advisories()

    assert Advisory.objects.count() == 0
    assert "ML: skipped, seed the demo staff first" in "\n".join(lines)
