"""Demo advisories for `manage.py seed_demo`: Mali and Lebanon, each drafted by one demo staff
member and approved by another, through the workflow services (so the event fires too)."""

from typing import Any

from django.db import transaction

from accounts.selectors import user_get_by_username
from advisories import services
from advisories.models import Advisory

DEMO_ADVISORIES: list[dict[str, Any]] = [
    {
        "country_code": "ML",
        "editor": "bamako-editor",
        "approver": "bamako-approver",
        "fields": {
            "country_level": 3,
            "indicators": ["terrorism", "kidnapping", "crime", "civil_unrest"],
            "posture": "authorized_departure",
            "summary_en": "Reconsider travel to Mali because of terrorism, kidnapping and crime. "
            "Do not travel to the north and centre.",
            "summary_fr": "Voyages déconseillés sauf raison impérative au Mali en raison du "
            "terrorisme, des enlèvements et de la criminalité. Voyages formellement "
            "déconseillés dans le nord et le centre.",
            "body_en": "Armed groups operate in the regions of Timbuktu, Gao, Kidal, Ménaka "
            "and Taoudénit. Roads between cities are frequently attacked.",
            "body_fr": "Des groupes armés sont actifs dans les régions de Tombouctou, Gao, "
            "Kidal, Ménaka et Taoudénit. Les axes routiers sont régulièrement attaqués.",
            "instructions_en": "Register your presence, avoid road travel outside Bamako and "
            "keep your travel documents with you.",
            "instructions_fr": "Signalez votre présence, évitez les déplacements routiers hors "
            "de Bamako et gardez vos documents de voyage sur vous.",
            "assistance_note_en": "Consular help is not guaranteed outside the capital.",
            "assistance_note_fr": "L'assistance consulaire n'est pas garantie hors de la capitale.",
            "change_note_en": "Demo advisory.",
            "change_note_fr": "Conseil de démonstration.",
        },
        "overrides": [
            services.OverrideInput(
                "ML-BKO",
                3,
                "Stay alert in crowded places.",
                "Restez vigilant dans les lieux fréquentés.",
            ),
            *(services.OverrideInput(f"ML-{number}", 4) for number in range(6, 11)),
        ],
    },
    {
        "country_code": "LB",
        "editor": "beirut-editor",
        "approver": "beirut-approver",
        "fields": {
            "country_level": 3,
            "indicators": ["terrorism", "civil_unrest", "kidnapping"],
            "posture": "normal",
            "summary_en": "Reconsider travel to Lebanon. Do not travel to the south, "
            "Nabatieh and Baalbek-Hermel.",
            "summary_fr": "Voyages déconseillés sauf raison impérative au Liban. Voyages "
            "formellement déconseillés dans le Sud, à Nabatieh et dans le Baalbek-Hermel.",
            "body_en": "Armed clashes can break out without warning near the southern border.",
            "body_fr": "Des affrontements armés peuvent éclater sans préavis près de la "
            "frontière sud.",
            "instructions_en": "Register your presence and follow the instructions of the "
            "local authorities.",
            "instructions_fr": "Signalez votre présence et suivez les consignes des autorités "
            "locales.",
            "assistance_note_en": "Consular help is not guaranteed in the south.",
            "assistance_note_fr": "L'assistance consulaire n'est pas garantie dans le Sud.",
            "change_note_en": "Demo advisory.",
            "change_note_fr": "Conseil de démonstration.",
        },
        "overrides": [
            services.OverrideInput("LB-JA", 4),
            services.OverrideInput("LB-NA", 4),
            services.OverrideInput("LB-BH", 4),
        ],
    },
]


def seed_advisories() -> list[str]:
    lines = ["Demo advisories:"]
    for spec in DEMO_ADVISORIES:
        country_code = spec["country_code"]
        with transaction.atomic():
            if Advisory.objects.filter(
                country_id=country_code, status=Advisory.Status.PUBLISHED
            ).exists():
                lines.append(f"  {country_code}: a current advisory exists, left as it is")
                continue
            editor = user_get_by_username(username=spec["editor"])
            approver = user_get_by_username(username=spec["approver"])
            if editor is None or approver is None:
                lines.append(f"  {country_code}: skipped, seed the demo staff first")
                continue
            draft = services.advisory_draft_create(
                country_code=country_code,
                author=editor,
                fields=spec["fields"],
                overrides=spec["overrides"],
            )
            services.advisory_submit(advisory=draft, submitted_by=editor)
            published = services.advisory_approve(
                advisory=draft, approved_by=approver, confirm_reach=True
            )
        lines.append(
            f"  {country_code}: level {published.country_level} published "
            f"(drafted by {spec['editor']}, approved by {spec['approver']})"
        )
    return lines
