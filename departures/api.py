"""REST for departures. The citizen's side under /me/ (the self-service token): their intent
to leave, and their answers to seat offers."""

import dataclasses
import datetime
from typing import Any

from django.db.models import QuerySet
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api import STRICT_FIELD_MAPPING, StrictCharField
from core.audit import Action, AuditedViewSetMixin, audit_record
from core.exceptions import NotFound
from core.pagination import CursorPagination
from core.schema import ErrorSerializer
from departures import manifests, selectors
from departures.models import TEXT_MAX as OPERATION_TEXT_MAX
from departures.models import (
    Boarding,
    DepartureOperation,
    DepartureOption,
    Intent,
    Offer,
    PriorityGroup,
    Traveller,
)
from departures.services import allocation, boarding, intents, offers, operations, options
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


NO_DEPARTURE = OpenApiResponse(
    ErrorSerializer, description="No assisted departure is organised where the citizen is."
)


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

    @extend_schema(responses={200: DepartureIntentSerializer, 404: NO_DEPARTURE})
    def get(self, request: Request) -> Response:
        return self._render(self._operation())

    @extend_schema(
        request=IntentInputSerializer,
        responses={200: DepartureIntentSerializer, 404: NO_DEPARTURE},
    )
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


# --- Staff ----------------------------------------------------------------------------------


def _user(request: Request) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


class OperationSerializer(serializers.ModelSerializer[DepartureOperation]):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    country = StrictCharField(source="country_id", max_length=2)
    region_codes = serializers.ListField(
        child=StrictCharField(max_length=6), required=False, max_length=100
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    approved_by = serializers.CharField(
        source="approved_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = DepartureOperation
        fields = [
            "id",
            "status",
            "country",
            "region_codes",
            "eligibility_en",
            "eligibility_fr",
            "baggage_policy_en",
            "baggage_policy_fr",
            "assembly_instructions_en",
            "assembly_instructions_fr",
            "created_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "rejection_reason",
            "closing_at",
            "closed_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "submitted_at",
            "approved_at",
            "rejection_reason",
            "closing_at",
            "closed_at",
            "created_at",
        ]
        extra_kwargs = {
            name: {"required": False, "allow_blank": True, "max_length": OPERATION_TEXT_MAX}
            for name in (
                "eligibility_fr",
                "baggage_policy_en",
                "baggage_policy_fr",
                "assembly_instructions_en",
                "assembly_instructions_fr",
            )
        } | {"eligibility_en": {"max_length": OPERATION_TEXT_MAX}}

    def fields_of(self) -> operations.OperationFields:
        data = self.validated_data
        return operations.OperationFields(
            eligibility_en=data["eligibility_en"],
            region_codes=data.get("region_codes", []),
            eligibility_fr=data.get("eligibility_fr", ""),
            baggage_policy_en=data.get("baggage_policy_en", ""),
            baggage_policy_fr=data.get("baggage_policy_fr", ""),
            assembly_instructions_en=data.get("assembly_instructions_en", ""),
            assembly_instructions_fr=data.get("assembly_instructions_fr", ""),
        )


class DepartureReasonSerializer(serializers.Serializer[Any]):
    reason = StrictCharField(max_length=2000, allow_blank=True)


class AllocationRunSerializer(serializers.Serializer[Any]):
    answer_within_hours = serializers.IntegerField(
        min_value=1, max_value=72, required=False, default=6
    )


class AllocationResultSerializer(serializers.Serializer[Any]):
    offers = serializers.IntegerField()
    people = serializers.IntegerField()
    options = serializers.IntegerField()


class OptionSeatsSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    capacity = serializers.IntegerField()
    offered = serializers.IntegerField()
    accepted = serializers.IntegerField()
    cancelled = serializers.BooleanField()
    boarded = serializers.IntegerField()
    present = serializers.IntegerField()
    no_show = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="The region's code ('' when not given) or the group.")
    name = serializers.CharField()
    intents = serializers.IntegerField()
    people = serializers.IntegerField()
    offered = serializers.IntegerField()
    accepted = serializers.IntegerField()
    boarded = serializers.IntegerField()
    waiting = serializers.IntegerField()


class BoardSerializer(serializers.Serializer[Any]):
    intents = serializers.IntegerField()
    people = serializers.IntegerField()
    waiting_intents = serializers.IntegerField()
    waiting_people = serializers.IntegerField()
    offered_people = serializers.IntegerField()
    accepted_people = serializers.IntegerField()
    by_priority = serializers.DictField(
        child=serializers.IntegerField(), help_text="People waiting per priority group (1-5)."
    )
    by_region = serializers.DictField(
        child=serializers.IntegerField(), help_text="People per region ('' when not given)."
    )
    options = OptionSeatsSerializer(many=True)
    boarded_people = serializers.IntegerField()
    arrived_people = serializers.IntegerField()
    regions = FiguresSerializer(many=True)
    priorities = FiguresSerializer(many=True)


class QueueRowSerializer(serializers.ModelSerializer[Intent]):
    citizen = serializers.UUIDField(source="citizen_id", read_only=True)
    region = serializers.CharField(source="region_id", allow_null=True, read_only=True)
    priority = serializers.IntegerField(read_only=True)

    class Meta:
        model = Intent
        fields = [
            "id",
            "citizen",
            "priority",
            "priority_override",
            "override_reason",
            "people",
            "region",
            "earliest_date",
            "needs_assistance",
            "minors_alone",
            "with_children",
            "elderly_or_pregnant",
            "submitted_at",
        ]
        read_only_fields = fields


class QueuePagination(CursorPagination):
    # The queue's own order: cursor pagination takes a tuple, whatever the stubs say.
    ordering = ("priority", "submitted_at", "id")  # type: ignore[assignment]


@extend_schema(tags=["departures"])
class OperationViewSet(
    AuditedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Assisted departures from the countries your posts cover (consular staff only).

    Opened as a draft; `submit` hands it to a second person, whose `approve` opens it (or
    `reject` sends it back); `close` moves it to closing, then closed. `allocate` offers the
    free seats to the queue in priority order; `board` and `queue` show where it stands."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = OperationSerializer
    audit_object_type = "departures.departureoperation"
    filterset_fields = ["status", "country"]

    def get_queryset(self) -> QuerySet[DepartureOperation]:
        return selectors.operations_for_staff(user=_user(self.request))

    def _detail(self, operation: DepartureOperation, code: int = 200) -> Response:
        return Response(OperationSerializer(operation).data, status=code)

    @extend_schema(request=OperationSerializer, responses={201: OperationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A draft: citizens see nothing before a second person approves it."""
        serializer = OperationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        operation = operations.operation_open(
            opened_by=_user(request),
            country_code=serializer.validated_data["country_id"],
            fields=serializer.fields_of(),
        )
        return self._detail(operation, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OperationSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(
            operations.operation_submit(operation=self.get_object(), submitted_by=_user(request))
        )

    @extend_schema(request=None, responses=OperationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Four eyes: another consular staff member of a covering post opens it."""
        return self._detail(
            operations.operation_approve(operation=self.get_object(), approver=_user(request))
        )

    @extend_schema(request=DepartureReasonSerializer, responses=OperationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        operation = self.get_object()
        data = DepartureReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._detail(
            operations.operation_reject(
                operation=operation,
                rejected_by=_user(request),
                reason=data.validated_data["reason"],
            )
        )

    @extend_schema(request=None, responses=OperationSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Open -> closing (no new intents), closing -> closed."""
        return self._detail(
            operations.operation_close(operation=self.get_object(), closed_by=_user(request))
        )

    @extend_schema(request=AllocationRunSerializer, responses=AllocationResultSerializer)
    @action(detail=True, methods=["post"])
    def allocate(self, request: Request, pk: str | None = None) -> Response:
        """One allocation run: the queue, in priority order, fills the bookable options."""
        operation = self.get_object()
        data = AllocationRunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = allocation.allocation_run(
            operation=operation,
            run_by=_user(request),
            answer_within=datetime.timedelta(hours=data.validated_data["answer_within_hours"]),
        )
        return Response(AllocationResultSerializer(dataclasses.asdict(result)).data)

    @extend_schema(responses=BoardSerializer)
    @action(detail=True, methods=["get"])
    def board(self, request: Request, pk: str | None = None) -> Response:
        board = selectors.operation_board(operation=self.get_object())
        return Response(BoardSerializer(dataclasses.asdict(board)).data)

    @extend_schema(responses=QueueRowSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=QueuePagination, filter_backends=[])
    def queue(self, request: Request, pk: str | None = None) -> Response:
        """The parties waiting for seats, first served first."""
        rows = selectors.queue_of_operation(operation=self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(QueueRowSerializer(page, many=True).data)


class OptionSerializer(serializers.ModelSerializer[DepartureOption]):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    operation = serializers.UUIDField(source="operation_id")
    country = serializers.CharField(source="operation.country_id", read_only=True)
    capacity = serializers.IntegerField(min_value=1, max_value=100000)

    class Meta:
        model = DepartureOption
        fields = [
            "id",
            "operation",
            "country",
            "kind",
            "departs_at",
            "place",
            "assembly_point",
            "capacity",
            "seats_taken",
            "booking_cutoff",
            "notes",
            "cancelled_at",
            "cancel_reason",
            "created_at",
        ]
        read_only_fields = ["id", "seats_taken", "cancelled_at", "cancel_reason", "created_at"]
        extra_kwargs = {"notes": {"required": False, "allow_blank": True}}

    def fields_of(self) -> options.OptionFields:
        data = self.validated_data
        return options.OptionFields(
            kind=data["kind"],
            departs_at=data["departs_at"],
            place=data["place"],
            assembly_point=data["assembly_point"],
            capacity=data["capacity"],
            booking_cutoff=data["booking_cutoff"],
            notes=data.get("notes", ""),
        )


class CapacitySerializer(serializers.Serializer[Any]):
    capacity = serializers.IntegerField(min_value=1, max_value=100000)


class ManifestRowSerializer(serializers.Serializer[Any]):
    """One person holding a seat: the CSV's columns (DS-5528), and the traveller's id that
    the check-in names."""

    traveller = serializers.UUIDField(source="traveller_id")
    reference = serializers.CharField(source="row.reference")
    state = serializers.CharField(source="row.state")
    name = serializers.CharField(source="row.name")
    relation = serializers.CharField(source="row.relation")
    date_of_birth = serializers.DateField(source="row.date_of_birth", allow_null=True)
    nationality = serializers.CharField(source="row.nationality")
    document_type = serializers.CharField(source="row.document_type")
    document_number = serializers.CharField(source="row.document_number")
    document_expiry = serializers.DateField(source="row.document_expiry", allow_null=True)
    phone = serializers.CharField(source="row.phone")
    email = serializers.CharField(source="row.email")
    emergency_contact = serializers.CharField(source="row.emergency_contact")
    emergency_phone = serializers.CharField(source="row.emergency_phone")
    medical_or_mobility_needs = serializers.CharField(source="row.medical_or_mobility_needs")
    minors_alone = serializers.BooleanField(source="row.minors_alone")
    boarding = serializers.CharField(
        source="row.boarding", help_text="present, boarded, no_show, or '' (not checked in)."
    )


class CheckinSerializer(serializers.Serializer[Any]):
    traveller = serializers.UUIDField(help_text="A traveller's id, from the manifest.")
    state = serializers.ChoiceField(choices=Boarding.State.choices)


class BoardingSerializer(serializers.ModelSerializer[Boarding]):
    offer = serializers.UUIDField(source="offer_id", read_only=True)
    traveller = serializers.UUIDField(source="traveller_id", read_only=True)

    class Meta:
        model = Boarding
        fields = ["id", "offer", "traveller", "state", "present_at", "boarded_at"]
        read_only_fields = fields


@extend_schema(tags=["departures"])
class OptionViewSet(
    AuditedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Flights, charters and convoys of the departures your posts run. `capacity` changes the
    seats (never below those accepted); `cancel` withdraws every offer on it."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = OptionSerializer
    audit_object_type = "departures.departureoption"
    filterset_fields = ["operation"]

    def get_queryset(self) -> QuerySet[DepartureOption]:
        return selectors.options_for_staff(user=_user(self.request))

    @extend_schema(
        request=OptionSerializer,
        responses={
            201: OptionSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="An operation outside the caller's posts."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        operation = (
            selectors.operations_for_staff(user=_user(request))
            .filter(id=serializer.validated_data["operation_id"])
            .first()
        )
        if operation is None:
            raise NotFound(_("No such departure operation."), field="operation")
        option = options.option_add(
            operation=operation, added_by=_user(request), fields=serializer.fields_of()
        )
        return Response(OptionSerializer(option).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CapacitySerializer, responses=OptionSerializer)
    @action(detail=True, methods=["post"])
    def capacity(self, request: Request, pk: str | None = None) -> Response:
        option = self.get_object()
        data = CapacitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        option = options.option_change_capacity(
            option=option, changed_by=_user(request), capacity=data.validated_data["capacity"]
        )
        return Response(OptionSerializer(option).data)

    @extend_schema(request=DepartureReasonSerializer, responses=OptionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        option = self.get_object()
        data = DepartureReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        option = options.option_cancel(
            option=option, cancelled_by=_user(request), reason=data.validated_data["reason"]
        )
        return Response(OptionSerializer(option).data)

    @extend_schema(responses=ManifestRowSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def manifest(self, request: Request, pk: str | None = None) -> Response:
        """The option's manifest: everyone holding a seat on it, accepted first, with the
        DS-5528 columns of the CSV and where each one is at the assembly point."""
        option = self.get_object()
        entries = manifests.manifest_entries(option=option)
        audit_record(
            request=request,
            action=Action.EXPORT,
            obj=option,
            detail={"list": "manifest", "rows": len(entries), "via": "api"},
        )
        return Response(ManifestRowSerializer(entries, many=True).data)

    @extend_schema(request=CheckinSerializer, responses=BoardingSerializer)
    @action(detail=True, methods=["post"])
    def checkin(self, request: Request, pk: str | None = None) -> Response:
        """At the assembly point: one person of an accepted offer present, boarded or
        no-show. Boarding is final, and the citizen's ends their presence in the country."""
        option = self.get_object()
        data = CheckinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = boarding.boarding_mark(
            option=option,
            traveller_id=data.validated_data["traveller"],
            state=data.validated_data["state"],
            marked_by=_user(request),
        )
        return Response(BoardingSerializer(marked).data)


class PrioritySerializer(serializers.Serializer[Any]):
    priority = serializers.ChoiceField(
        choices=PriorityGroup.choices,
        allow_null=True,
        help_text="The group to serve the party in; null: back to the computed one.",
    )
    reason = StrictCharField(max_length=300, required=False, allow_blank=True)


class HandOfferSerializer(serializers.Serializer[Any]):
    option = serializers.UUIDField()


class HandOfferResultSerializer(serializers.ModelSerializer[Offer]):
    option = serializers.UUIDField(source="option_id")
    intent = serializers.UUIDField(source="intent_id")

    class Meta:
        model = Offer
        fields = ["id", "intent", "option", "seats", "state", "deadline"]
        read_only_fields = fields


@extend_schema(tags=["departures"])
class IntentViewSet(AuditedViewSetMixin, viewsets.GenericViewSet):
    """A party in the queue: `priority` overrides its group, with a reason; `offer` gives it
    seats on an option by hand."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = QueueRowSerializer
    audit_object_type = "departures.intent"

    def get_queryset(self) -> QuerySet[Intent]:
        return selectors.intents_for_staff(user=_user(self.request))

    @extend_schema(request=PrioritySerializer, responses=QueueRowSerializer)
    @action(detail=True, methods=["post"])
    def priority(self, request: Request, pk: str | None = None) -> Response:
        intent = self.get_object()
        data = PrioritySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        intents.intent_priority_set(
            intent=intent,
            set_by=_user(request),
            group=data.validated_data["priority"],
            reason=data.validated_data.get("reason", ""),
        )
        row = selectors.queue_row(intent_id=intent.id)
        return Response(QueueRowSerializer(row).data)

    @extend_schema(request=HandOfferSerializer, responses={201: HandOfferResultSerializer})
    @action(detail=True, methods=["post"])
    def offer(self, request: Request, pk: str | None = None) -> Response:
        intent = self.get_object()
        data = HandOfferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        option = (
            selectors.options_for_staff(user=_user(request))
            .filter(id=data.validated_data["option"])
            .first()
        )
        if option is None:
            raise NotFound(_("No such option."), field="option")
        made = offers.offer_make(intent=intent, option=option, made_by=_user(request))
        return Response(HandOfferResultSerializer(made).data, status=status.HTTP_201_CREATED)
