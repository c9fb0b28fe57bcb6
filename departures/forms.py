"""The citizen's short intent form: who is leaving (themselves and their household, as
registered), where they are, from when, and what a manifest needs about each person."""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departures.models import Intent, Traveller
from departures.services.intents import IntentFields, TravellerFields

SELF = "self"


class DateInput(forms.DateInput):
    """The browser's date picker, which reads and writes ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class IntentForm(forms.Form):
    """Built for one citizen: `people` is [(key, label)], "self" for the citizen and each
    household member's id; each person has their own manifest fields, prefixed by the key."""

    travellers = forms.MultipleChoiceField(
        label=_("Who is leaving?"), widget=forms.CheckboxSelectMultiple
    )
    region = forms.ChoiceField(label=_("Where are you now?"), required=False)
    earliest_date = forms.DateField(label=_("Earliest date you can leave"), widget=DateInput())
    needs_assistance = forms.BooleanField(
        label=_("Someone has medical or mobility needs"), required=False
    )
    assistance_details = forms.CharField(
        label=_("What do they need?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    pregnant = forms.BooleanField(label=_("Someone travelling is pregnant"), required=False)
    minors_alone = forms.BooleanField(label=_("Children travel without a parent"), required=False)

    def __init__(
        self,
        *args: Any,
        people: Sequence[tuple[str, str]],
        regions: Sequence[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = list(people)
        travellers = self.fields["travellers"]
        assert isinstance(travellers, forms.MultipleChoiceField)  # noqa: S101 - declared above
        travellers.choices = self.people
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)  # noqa: S101 - declared above
        region.choices = [("", _("Somewhere else in the country")), *regions]
        for key, _name in self.people:
            # Each person's fields sit under their name (a fieldset's legend).
            self.fields[f"{key}-nationality"] = forms.CharField(
                label=_("Nationality"), max_length=60, required=False
            )
            self.fields[f"{key}-document_type"] = forms.ChoiceField(
                label=_("Travel document"),
                choices=[("", "-"), *Traveller.DocumentType.choices],
                required=False,
            )
            self.fields[f"{key}-document_number"] = forms.CharField(
                label=_("Document number"), max_length=40, required=False
            )
            self.fields[f"{key}-document_expiry"] = forms.DateField(
                label=_("Expiry date"), required=False, widget=DateInput()
            )

    def person_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Each person's manifest fields, for the template to group under their name."""
        names = ("nationality", "document_type", "document_number", "document_expiry")
        return [(name, [self[f"{key}-{field}"] for field in names]) for key, name in self.people]

    def intent_fields(self) -> IntentFields:
        data = self.cleaned_data
        return IntentFields(
            travellers=[
                TravellerFields(
                    household_member_id=None if key == SELF else uuid.UUID(key),
                    nationality=data.get(f"{key}-nationality", ""),
                    document_type=data.get(f"{key}-document_type", ""),
                    document_number=data.get(f"{key}-document_number", ""),
                    document_expiry=data.get(f"{key}-document_expiry"),
                )
                for key in data["travellers"]
            ],
            earliest_date=data["earliest_date"],
            region_code=data.get("region", ""),
            needs_assistance=data["needs_assistance"],
            assistance_details=data.get("assistance_details", ""),
            minors_alone=data["minors_alone"],
            pregnant=data["pregnant"],
        )


def initial_of(intent: Intent | None, *, people: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The form's values for an intent stated already, else everyone leaving from today."""
    if intent is None:
        return {
            "travellers": [key for key, _name in people],
            "earliest_date": timezone.localdate(),
        }
    initial: dict[str, Any] = {
        "travellers": [],
        "region": intent.region_id or "",
        "earliest_date": max(intent.earliest_date, timezone.localdate()),
        "needs_assistance": intent.needs_assistance,
        "assistance_details": intent.assistance_details,
        "minors_alone": intent.minors_alone,
        "pregnant": False,
    }
    for traveller in intent.travellers.all():
        key = SELF if traveller.is_citizen else str(traveller.household_member_id)
        initial["travellers"].append(key)
        initial[f"{key}-nationality"] = traveller.nationality
        initial[f"{key}-document_type"] = traveller.document_type
        initial[f"{key}-document_number"] = traveller.document_number
        expiry: datetime.date | None = traveller.document_expiry
        initial[f"{key}-document_expiry"] = expiry
    return initial
