"""The staff pages' forms: an operation, an option, a capacity, a priority override."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from departures.models import TEXT_MAX, DepartureOption, PriorityGroup


class DateTimeInput(forms.DateTimeInput):
    """The browser's picker, which reads and writes ISO values whatever the language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class OperationForm(forms.Form):
    country = forms.ChoiceField(label=_("Country"))
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        help_text=_("ISO 3166-2 codes separated by commas; empty for the whole country."),
    )
    eligibility_en = forms.CharField(
        label=_("Who may leave (English)"), max_length=TEXT_MAX, widget=forms.Textarea
    )
    eligibility_fr = forms.CharField(
        label=_("Who may leave (French)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea,
    )
    baggage_policy_en = forms.CharField(
        label=_("Baggage and pets (English)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea,
    )
    baggage_policy_fr = forms.CharField(
        label=_("Baggage and pets (French)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea,
    )
    assembly_instructions_en = forms.CharField(
        label=_("Assembly instructions (English)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea,
    )
    assembly_instructions_fr = forms.CharField(
        label=_("Assembly instructions (French)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea,
    )

    def __init__(self, *args: Any, countries: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101 - declared above
        country.choices = countries


class OptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DepartureOption.Kind.choices)
    departs_at = forms.DateTimeField(label=_("Departs at"), widget=DateTimeInput())
    place = forms.CharField(label=_("From"), max_length=200)
    assembly_point = forms.CharField(label=_("Assembly point"), max_length=300)
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=100000)
    booking_cutoff = forms.DateTimeField(label=_("Booking cut-off"), widget=DateTimeInput())
    notes = forms.CharField(
        label=_("Notes"), max_length=TEXT_MAX, required=False, widget=forms.Textarea
    )


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=100000)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Computed")), *PriorityGroup.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
