from django.core.management import call_command

from cases.models import Case, SafetyCheck, SafetyResponse


def test_seed_demo_starts_one_check_with_answers_and_cases(geography, capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    check = SafetyCheck.objects.get()
    statuses = set(
        SafetyResponse.objects.filter(safety_check=check).values_list("status", flat=True)
    )
    assert statuses == {"safe", "needs_help", "pending"}
    assert Case.objects.filter(safety_check=check).count() == (
        SafetyResponse.objects.filter(safety_check=check, status="needs_help").count()
    )
    assert Case.objects.filter(source="staff").count() == 1
    assert "Demo safety check already there." in capsys.readouterr().out
