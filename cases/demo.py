"""Demo safety check: Gao (ML-7) asked whether they are safe, with answers coming in, so a
fresh `make run` shows the board, the queue and a case page. Seeding twice adds nothing."""

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.selectors import user_get_by_username
from cases.models import SafetyCheck, SafetyResponse
from cases.services import cases as case_services
from cases.services import safety_checks

QUESTION_EN = "Demo: fighting reported around Gao. Are you and those with you safe?"
QUESTION_FR = "Démo : combats signalés autour de Gao. Êtes-vous en sécurité, vous et vos proches ?"
HELP_KINDS = ["evacuation", "medical", "documents", "other"]


@transaction.atomic
def seed_safety_check() -> list[str]:
    if SafetyCheck.objects.filter(question_en=QUESTION_EN).exists():
        return ["Demo safety check already there."]
    officer = user_get_by_username(username="bamako-officer")
    approver = user_get_by_username(username="bamako-approver")
    if officer is None or approver is None:
        return ["Demo safety check skipped: seed the demo staff first."]
    draft = safety_checks.safety_check_create(
        author=officer,
        country_code="ML",
        fields=safety_checks.CheckFields(
            region_codes=["ML-7"],
            question_en=QUESTION_EN,
            question_fr=QUESTION_FR,
            deadline=timezone.now() + datetime.timedelta(days=1),
        ),
    )
    safety_checks.safety_check_submit(check=draft, submitted_by=officer)
    check = safety_checks.safety_check_approve(check=draft, approver=approver)
    asked = list(
        SafetyResponse.objects.filter(safety_check=check)
        .order_by("citizen_id")
        .values_list("citizen_id", flat=True)
    )
    for number, citizen_id in enumerate(asked):
        if number % 10 < 6:
            answer = safety_checks.Answer(status="safe", via="sms")
        elif number % 10 == 6:
            answer = safety_checks.Answer(
                status="needs_help",
                via="web",
                help_kind=HELP_KINDS[number % len(HELP_KINDS)],
                people_with_them=1 + number % 3,
                location="Gao",
            )
        else:
            continue
        safety_checks.response_record(check=check, citizen_id=citizen_id, answer=answer)
    case_services.case_open(
        opened_by=officer,
        kind="welfare",
        country_code="ML",
        region_code="ML-7",
        summary="Demo: a mother in Lyon asks for news of her son in Gao",
    )
    return [
        f"Demo safety check {check.code} for ML-7: {len(asked)} asked "
        "(written by bamako-officer, approved by bamako-approver)."
    ]
