"""Citizen forms. They check the shape of the input; the services decide what is valid, and
their refusals are put back on the field they name (see `apply_error`)."""

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from regions.selectors import countries_all, regions_of_country
from registrations import services
from registrations.models import NAME_MAX, Citizen, Language, Presence


def _phone(value: str) -> str:
    """The service's own check, run early so the message shows with the other field errors."""
    try:
        return services.phone_normalise(value)
    except ApplicationError as error:
        raise forms.ValidationError(str(error.message), code=error.code) from None


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PersonForm(forms.Form):
    given_name = forms.CharField(label=_("Given names"), max_length=NAME_MAX)
    family_name = forms.CharField(label=_("Family name"), max_length=NAME_MAX)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        error_messages={"invalid": _("Enter a valid email address.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a link to confirm it, and alerts if you choose email."),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("International format, such as +223 70 00 00 00."),
    )
    language = forms.ChoiceField(label=_("Language for messages"), choices=Language.choices)
    notify_by_email = forms.BooleanField(label=_("Alert me by email"), required=False)
    notify_by_sms = forms.BooleanField(label=_("Alert me by text message"), required=False)
    id_document_type = forms.ChoiceField(
        label=_("Identity document (optional)"),
        choices=[("", _("None given")), *Citizen.IdDocumentType.choices],
        required=False,
    )
    id_document_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact: name"), max_length=2 * NAME_MAX, required=False
    )
    emergency_contact_relation = forms.CharField(
        label=_("Emergency contact: relation"), max_length=50, required=False
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact: phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    emergency_contact_email = forms.CharField(
        label=_("Emergency contact: email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(),
    )

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data.get("phone", ""))

    def clean_emergency_contact_phone(self) -> str:
        return _phone(self.cleaned_data.get("emergency_contact_phone", ""))

    def person(self) -> services.PersonInput:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name in services.PersonInput.__dataclass_fields__
        }
        return services.PersonInput(**data)


class RegistrationForm(PersonForm):
    consent = forms.BooleanField(
        label=_(
            "I agree that the consular service keeps these details to contact me and the "
            "people with me in an emergency."
        ),
        error_messages={"required": _("Please agree to the use of your data to register.")},
    )


class PresenceForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("I am"),
        choices=[
            (Presence.Kind.RESIDENCE, _("Living there")),
            (Presence.Kind.TRIP, _("Travelling there")),
        ],
        widget=forms.RadioSelect,
    )
    country = forms.ChoiceField(
        label=_("Country"),
        error_messages={"invalid_choice": _("Choose a country from the list.")},
    )
    region = forms.ChoiceField(
        label=_("Region"),
        required=False,
        error_messages={"invalid_choice": _("Choose a region from the list.")},
        help_text=_("Choose the country and press “Show regions” to list its regions."),
    )
    city = forms.CharField(label=_("City or place (optional)"), max_length=100, required=False)
    start_date = forms.DateField(label=_("From"), widget=DateInput())
    end_date = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DateInput(),
        help_text=_("Required for a trip; leave empty if you live there."),
    )

    def __init__(self, *args: Any, with_kind: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_kind:
            # A trip leg: dated at both ends.
            del self.fields["kind"]
            self.fields["end_date"].required = True
            self.fields["end_date"].help_text = ""
        country_field = self.fields["country"]
        region_field = self.fields["region"]
        assert isinstance(country_field, forms.ChoiceField)  # noqa: S101 - declared above
        assert isinstance(region_field, forms.ChoiceField)  # noqa: S101
        country_field.choices = [("", _("Choose a country")), *country_choices()]
        country = (self.data.get(self.add_prefix("country")) if self.is_bound else None) or (
            self.initial.get("country")
        )
        regions = region_choices(str(country)) if country else []
        region_field.choices = [("", _("Somewhere in the country / not sure")), *regions]
        if regions:
            region_field.help_text = ""

    def presence(self) -> services.PresenceInput:
        data = self.cleaned_data
        return services.PresenceInput(
            country=data["country"],
            region=data.get("region") or "",
            city=data.get("city") or "",
            start_date=data["start_date"],
            end_date=data.get("end_date"),
        )


def country_choices() -> list[tuple[str, str]]:
    return sorted(
        ((country.code, country.name) for country in countries_all()),
        key=lambda choice: choice[1],
    )


def region_choices(country_code: str) -> list[tuple[str, str]]:
    regions = regions_of_country(country_code=country_code)
    return sorted(((region.code, region.name) for region in regions), key=lambda c: c[1])


class HouseholdMemberForm(forms.Form):
    """Every field is optional here: a form left empty (or emptied) is no member; the service
    requires the name and relation of the members that are kept."""

    name = forms.CharField(label=_("Name"), max_length=2 * NAME_MAX, required=False)
    relation = forms.CharField(
        label=_("Relation to you"),
        max_length=50,
        required=False,
        help_text=_("For example: spouse, child."),
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data.get("phone", ""))

    def member(self) -> services.HouseholdMemberInput:
        data = self.cleaned_data
        return services.HouseholdMemberInput(
            name=data["name"],
            relation=data["relation"],
            date_of_birth=data.get("date_of_birth"),
            phone=data.get("phone") or "",
        )


HouseholdFormSet = formset_factory(
    HouseholdMemberForm,
    extra=1,
    max_num=services.MAX_HOUSEHOLD,
    validate_max=True,
    absolute_max=services.MAX_HOUSEHOLD + 5,
)


def household_kept(formset: Any) -> list[HouseholdMemberForm]:
    """The filled-in member forms, in the order the service numbers them (an empty name drops
    the member)."""
    return [form for form in formset.forms if form.cleaned_data and form.cleaned_data.get("name")]


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Email you registered with"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def apply_error(
    error: ApplicationError,
    forms_by_prefix: dict[str, forms.Form],
    formsets: dict[str, tuple[Any, list[Any]]] | None = None,
    default: forms.Form | None = None,
) -> None:
    """Put a service refusal on the field it names: "presence.region" on the presence form's
    region, "household.1.name" on the second kept household form's name, "email" on the
    person. `formsets` maps a prefix to the formset and the forms the service numbered."""
    field = error.field or ""
    message = str(error.message)
    for prefix, (formset, members) in (formsets or {}).items():
        if field.startswith(f"{prefix}."):
            _prefix, index, name = [*field.split(".", 2), "", ""][:3]
            position = int(index) if index.isdigit() else len(members)
            if position < len(members) and name in members[position].fields:
                members[position].add_error(name, message)
                return
            formset._non_form_errors = formset.error_class([message])
            return
        if field == prefix:
            formset._non_form_errors = formset.error_class([message])
            return
    for prefix, form in forms_by_prefix.items():
        name = field.removeprefix(f"{prefix}.") if prefix else field
        if (not prefix or field.startswith(f"{prefix}.")) and name in form.fields:
            form.add_error(name, message)
            return
    target = default or next(iter(forms_by_prefix.values()))
    target.add_error(None, message)
