"""REST for departures. The citizen's side under /me/ (the self-service token): their intent
to leave, and their answers to seat offers."""

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import StrictCharField
from core.exceptions import NotFound
from departures import selectors
from departures.models import DepartureOperation, Intent, Offer, Traveller
from departures.services import intents, offers
from registrations.api import CitizenView

TEXT_MAX = 2000


class TravellerInputSerializer(serializers.Serializer[Any]):
    household_member = serializers.UUIDField(
        required=False, allow_null=True, help_text="Empty or null: the citizen themselves."
    )
    nationality = StrictCharField(max_length=60, required=False, allow_blank=True)
    document_type = serializers.ChoiceField(
        choices=["", *Traveller.DocumentType.values], required=False
    )
    document_number = StrictCharField(max_length=40, required=False, allow_blank=True)
    document_expiry = serializers.DateField(required=False, allow_null=True)


class IntentInputSerializer(serializers.Serializer[Any]):
    travellers = serializers.ListField(
        child=TravellerInputSerializer(), min_length=1, max_length=50
    )
    earliest_date = serializers.DateField()
    region = StrictCharField(max_length=6, required=False, allow_blank=True)
    needs_assistance = serializers.BooleanField(required=False, default=False)
    assistance_details = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    minors_alone = serializers.BooleanField(required=False, default=False)
    pregnant = serializers.BooleanField(required=False, default=False)

    def fields_of(self) -> intents.IntentFields:
        data = self.validated_data
        return intents.IntentFields(
            travellers=[
                intents.TravellerFields(
                    household_member_id=row.get("household_member"),
                    nationality=row.get("nationality", ""),
                    document_type=row.get("document_type", ""),
                    document_number=row.get("document_number", ""),
                    document_expiry=row.get("document_expiry"),
                )
                for row in data["travellers"]
            ],
            earliest_date=data["earliest_date"],
            region_code=data.get("region", ""),
            needs_assistance=data["needs_assistance"],
            assistance_details=data.get("assistance_details", ""),
            minors_alone=data["minors_alone"],
            pregnant=data["pregnant"],
        )


class TravellerSerializer(serializers.ModelSerializer[Traveller]):
    household_member = serializers.UUIDField(source="household_member_id", allow_null=True)

    class Meta:
        model = Traveller
        fields = [
            "household_member",
            "is_citizen",
            "nationality",
            "document_type",
            "document_number",
            "document_expiry",
        ]


class IntentSerializer(serializers.ModelSerializer[Intent]):
    region = serializers.CharField(source="region_id", allow_null=True)
    travellers = TravellerSerializer(many=True)

    class Meta:
        model = Intent
        fields = [
            "id",
            "region",
            "earliest_date",
            "people",
            "needs_assistance",
            "assistance_details",
            "minors_alone",
            "travellers",
            "submitted_at",
            "updated_at",
        ]


class OperationPublicSerializer(serializers.ModelSerializer[DepartureOperation]):
    """What a citizen reads of the operation, in their language."""

    country = serializers.CharField(source="country_id")
    eligibility = serializers.SerializerMethodField()
    baggage_policy = serializers.SerializerMethodField()
    assembly_instructions = serializers.SerializerMethodField()

    class Meta:
        model = DepartureOperation
        fields = [
            "id",
            "status",
            "country",
            "region_codes",
            "eligibility",
            "baggage_policy",
            "assembly_instructions",
        ]

    def _text(self, operation: DepartureOperation, name: str) -> str:
        return operation.text(name, self.context.get("language", "en"))

    def get_eligibility(self, operation: DepartureOperation) -> str:
        return self._text(operation, "eligibility")

    def get_baggage_policy(self, operation: DepartureOperation) -> str:
        return self._text(operation, "baggage_policy")

    def get_assembly_instructions(self, operation: DepartureOperation) -> str:
        return self._text(operation, "assembly_instructions")


class OfferSerializer(serializers.ModelSerializer[Offer]):
    kind = serializers.CharField(source="option.kind")
    departs_at = serializers.DateTimeField(source="option.departs_at")
    place = serializers.CharField(source="option.place")
    assembly_point = serializers.CharField(source="option.assembly_point")

    class Meta:
        model = Offer
        fields = [
            "id",
            "state",
            "seats",
            "deadline",
            "kind",
            "departs_at",
            "place",
            "assembly_point",
            "answered_at",
        ]


class DepartureIntentSerializer(serializers.Serializer[Any]):
    operation = OperationPublicSerializer()
    intent = IntentSerializer(allow_null=True)
    offers = OfferSerializer(many=True)


def _no_departure() -> NotFound:
    return NotFound(_("No assisted departure is organised where you are."), field="operation")


@extend_schema(tags=["me"])
class MeDepartureIntentView(CitizenView):
    """The assisted departure where the citizen is: the operation's texts in their language,
    their intent to leave (PUT states it, or updates the one stated: never a second one) and
    the seat offers made to their party."""

    def _render(self, operation: DepartureOperation) -> Response:
        citizen = self.citizen
        data = {
            "operation": operation,
            "intent": selectors.intent_of_citizen(citizen_id=citizen.id, operation=operation),
            "offers": list(selectors.offers_of_citizen(citizen_id=citizen.id)),
        }
        return Response(
            DepartureIntentSerializer(data, context={"language": citizen.language}).data
        )

    def _operation(self) -> DepartureOperation:
        operation = selectors.operation_for_citizen(citizen_id=self.citizen.id)
        if operation is None:
            raise _no_departure()
        return operation

    @extend_schema(responses=DepartureIntentSerializer)
    def get(self, request: Request) -> Response:
        return self._render(self._operation())

    @extend_schema(request=IntentInputSerializer, responses=DepartureIntentSerializer)
    def put(self, request: Request) -> Response:
        serializer = IntentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        operation = self._operation()
        intents.intent_submit(
            citizen_id=self.citizen.id, operation=operation, fields=serializer.fields_of()
        )
        return self._render(operation)


@extend_schema(tags=["me"])
class MeOfferAcceptView(CitizenView):
    """ACCEPT: take the seats offered to the party, before the offer's deadline."""

    @extend_schema(request=None, responses=OfferSerializer)
    def post(self, request: Request, offer_id: str) -> Response:
        offers.offer_accept(offer_id=offer_id, citizen_id=self.citizen.id)
        offer = selectors.offers_of_citizen(citizen_id=self.citizen.id).get(id=offer_id)
        return Response(OfferSerializer(offer).data)


@extend_schema(tags=["me"])
class MeOfferDeclineView(CitizenView):
    """DECLINE: give the seats back; the party keeps its place in the queue."""

    @extend_schema(request=None, responses=OfferSerializer)
    def post(self, request: Request, offer_id: str) -> Response:
        offers.offer_decline(offer_id=offer_id, citizen_id=self.citizen.id)
        offer = selectors.offers_of_citizen(citizen_id=self.citizen.id).get(id=offer_id)
        return Response(OfferSerializer(offer).data)


# Mounted under /api/v1/ next to the router's routes (see consular/api.py).
me_urlpatterns = [
    path("me/departure-intent/", MeDepartureIntentView.as_view(), name="me-departure-intent"),
    path(
        "me/departure-intent/offers/<uuid:offer_id>/accept/",
        MeOfferAcceptView.as_view(),
        name="me-departure-offer-accept",
    ),
    path(
        "me/departure-intent/offers/<uuid:offer_id>/decline/",
        MeOfferDeclineView.as_view(),
        name="me-departure-offer-decline",
    ),
]
