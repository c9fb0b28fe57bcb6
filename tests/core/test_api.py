from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import exception_handler
from core.exceptions import Conflict, PermissionDenied, ValidationFailed


def test_application_error_names_the_field_and_reason():
    response = exception_handler(ValidationFailed("Enter a valid phone.", field="phone"), {})

    assert response is not None
    assert response.status_code == 400
    assert response.data == {
        "detail": "Enter a valid phone.",
        "code": "invalid",
        "errors": {"phone": ["Enter a valid phone."]},
    }


def test_each_refusal_has_its_status():
    assert exception_handler(PermissionDenied("no"), {}).status_code == 403
    assert exception_handler(Conflict("taken"), {}).status_code == 409


def test_validation_errors_are_flattened_to_field_paths():
    error = serializers.ValidationError(
        {"phone": ["Bad phone."], "household": [{}, {"name": ["Required."]}]}
    )

    response = exception_handler(error, {})

    assert response.status_code == 400
    assert response.data["errors"] == {"phone": ["Bad phone."], "household.1.name": ["Required."]}
    assert response.data["detail"] == "phone: Bad phone."


def test_reasons_are_translated_to_the_active_language():
    with translation.override("fr"):
        response = exception_handler(ValidationFailed(_("This field is required."), field="x"), {})

    assert response.data["errors"] == {"x": ["Ce champ est obligatoire."]}
