"""REST for registrations: the public registration, the citizen's self-service under /me/
(a short-lived token from an emailed code) and the staff register scoped to their posts."""

import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import (
    authentication,
    exceptions,
    mixins,
    permissions,
    serializers,
    status,
    viewsets,
)
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.selectors import REGISTER_ROLES, country_codes_of_user
from core.api import ShallowFieldCopiesMixin, StrictCharField
from core.schema import ErrorSerializer
from core.throttling import ScopedRateThrottle
from registrations import selectors, services, tokens
from registrations.models import NAME_MAX, Citizen, HouseholdMember, Language, Presence

TEXT_MAX = 254

# --- Input ----------------------------------------------------------------------------------


class HouseholdMemberInputSerializer(ShallowFieldCopiesMixin, serializers.Serializer[Any]):
    name = StrictCharField(max_length=2 * NAME_MAX)
    relation = StrictCharField(max_length=50)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")


class PresenceInputSerializer(ShallowFieldCopiesMixin, serializers.Serializer[Any]):
    country = StrictCharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. ML")
    region = StrictCharField(
        max_length=6,
        required=False,
        allow_blank=True,
        default="",
        help_text="ISO 3166-2 code, e.g. ML-7; empty for somewhere in the country",
    )
    city = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class FirstPresenceInputSerializer(PresenceInputSerializer):
    kind = serializers.ChoiceField(choices=Presence.Kind.choices)


class PersonInputSerializer(ShallowFieldCopiesMixin, serializers.Serializer[Any]):
    given_name = StrictCharField(max_length=NAME_MAX)
    family_name = StrictCharField(max_length=NAME_MAX)
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    id_document_type = serializers.ChoiceField(
        choices=[("", "-"), *Citizen.IdDocumentType.choices], required=False, default=""
    )
    id_document_number = StrictCharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    language = serializers.ChoiceField(choices=Language.choices, default=Language.ENGLISH)
    email = StrictCharField(max_length=TEXT_MAX)
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")
    notify_by_email = serializers.BooleanField(default=True)
    notify_by_sms = serializers.BooleanField(default=False)
    emergency_contact_name = StrictCharField(
        max_length=2 * NAME_MAX, required=False, allow_blank=True, default=""
    )
    emergency_contact_relation = StrictCharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    emergency_contact_phone = StrictCharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    emergency_contact_email = StrictCharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default=""
    )

    def person(self) -> services.PersonInput:
        data = dict(self.validated_data)
        for name in list(data):
            if name not in services.PersonInput.__dataclass_fields__:
                data.pop(name)
        return services.PersonInput(**data)


class RegistrationInputSerializer(PersonInputSerializer):
    household = HouseholdMemberInputSerializer(many=True, required=False, default=list)
    presence = FirstPresenceInputSerializer()
    consent = serializers.BooleanField(
        help_text="The citizen agrees to the statement of purpose and retention."
    )


def _presence_input(data: dict[str, Any]) -> services.PresenceInput:
    return services.PresenceInput(
        country=data["country"],
        region=data.get("region", ""),
        city=data.get("city", ""),
        start_date=data["start_date"],
        end_date=data.get("end_date"),
    )


def _household_input(rows: list[dict[str, Any]]) -> list[services.HouseholdMemberInput]:
    return [services.HouseholdMemberInput(**row) for row in rows]


# --- Output ---------------------------------------------------------------------------------


class HouseholdMemberSerializer(serializers.ModelSerializer[HouseholdMember]):
    class Meta:
        model = HouseholdMember
        fields = ["id", "name", "relation", "date_of_birth", "phone"]
        read_only_fields = fields


class PresenceSerializer(serializers.ModelSerializer[Presence]):
    country = serializers.CharField(source="country_id", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True, allow_null=True)

    class Meta:
        model = Presence
        fields = ["id", "kind", "trip", "country", "region", "city", "start_date", "end_date"]
        read_only_fields = fields


class CitizenSerializer(serializers.ModelSerializer[Citizen]):
    email_verified = serializers.SerializerMethodField()
    phone_verified = serializers.SerializerMethodField()
    household = HouseholdMemberSerializer(source="household_members", many=True, read_only=True)
    presences = PresenceSerializer(many=True, read_only=True)
    # Blank when not given: declared here so the schema allows "" (the model's fields would
    # document an enum and an email format that a blank value breaks).
    id_document_type = serializers.ChoiceField(
        choices=[("", "-"), *Citizen.IdDocumentType.choices], read_only=True
    )
    emergency_contact_email = serializers.CharField(read_only=True)

    class Meta:
        model = Citizen
        fields = [
            "id",
            "given_name",
            "family_name",
            "date_of_birth",
            "id_document_type",
            "id_document_number",
            "language",
            "email",
            "email_verified",
            "phone",
            "phone_verified",
            "notify_by_email",
            "notify_by_sms",
            "emergency_contact_name",
            "emergency_contact_relation",
            "emergency_contact_phone",
            "emergency_contact_email",
            "consent_version",
            "consented_at",
            "household",
            "presences",
            "created_at",
        ]
        read_only_fields = fields

    def get_email_verified(self, citizen: Citizen) -> bool:
        return citizen.email_verified_at is not None

    def get_phone_verified(self, citizen: Citizen) -> bool:
        return citizen.phone_verified_at is not None


class AcceptedSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


REGISTERED = _(
    "Thank you. Check your email: we sent you a link to confirm your address and manage "
    "your registration."
)

# --- Public registration and staff register -------------------------------------------------


def _register_countries(request: Request) -> set[str]:
    """The countries whose register the caller may read, asked once per request."""
    cached: set[str] | None = getattr(request, "_register_countries", None)
    if cached is None:
        cached = country_codes_of_user(user=request.user, roles=REGISTER_ROLES)  # type: ignore[arg-type]
        request._register_countries = cached  # type: ignore[attr-defined]
    return cached


class StaffRegisterPermission(permissions.BasePermission):
    """Staff who hold a register role (officer, post administrator) for some country."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user: Any = request.user
        return bool(
            user and user.is_authenticated and user.is_staff and _register_countries(request)
        )


@extend_schema(tags=["registrations"])
class RegistrationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Citizen],
):
    """`POST` registers a citizen (public, throttled per IP). `GET` lists the register for
    staff, scoped to the countries of their posts; a citizen outside them answers 404."""

    serializer_class = CitizenSerializer
    throttle_scope = "registration"

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action == "create":
            return [permissions.AllowAny()]
        return [StaffRegisterPermission()]

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action == "create":
            return [ScopedRateThrottle()]
        return []

    def _filter(self, name: str) -> str | None:
        value = self.request.query_params.get(name, "").strip()
        return value or None

    def get_queryset(self) -> QuerySet[Citizen]:
        present_on = None
        if raw := self._filter("present_on"):
            try:
                present_on = datetime.date.fromisoformat(raw)
            except ValueError:
                raise exceptions.ValidationError(
                    {"present_on": [_("Enter a date as YYYY-MM-DD.")]}
                ) from None
        channel = self._filter("channel_verified")
        if channel not in (None, "email", "sms", "none"):
            raise exceptions.ValidationError(
                {"channel_verified": [_("Choose email, sms or none.")]}
            )
        return selectors.citizens_for_staff(
            country_codes=_register_countries(self.request),
            country=self._filter("country"),
            region=self._filter("region"),
            present_on=present_on,
            verified_channel=channel,
        ).prefetch_related("household_members", "presences")

    @extend_schema(
        parameters=[
            OpenApiParameter("country", str, description="ISO 3166-1 alpha-2"),
            OpenApiParameter("region", str, description="ISO 3166-2"),
            OpenApiParameter("present_on", datetime.date, description="present on this date"),
            OpenApiParameter(
                "channel_verified", str, enum=["email", "sms", "none"], description="verified"
            ),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=RegistrationInputSerializer,
        responses={201: AcceptedSerializer},
        description="Register a citizen. Answers 201 with the same body whether or not the "
        "email was already registered (then a manage link is emailed instead).",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = RegistrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.citizen_register(
            person=serializer.person(),
            household=_household_input(data["household"]),
            presence=_presence_input(data["presence"]),
            kind=data["presence"]["kind"],
            consent=data["consent"],
        )
        return Response({"detail": str(REGISTERED)}, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("country", str, required=True, description="e.g. ML")],
        responses={
            404: OpenApiResponse(
                ErrorSerializer, description="A country outside the caller's posts."
            ),
            200: inline_serializer(
                "RegistrationStats",
                {
                    "country": serializers.CharField(),
                    "date": serializers.DateField(),
                    "regions": inline_serializer(
                        "RegionStats",
                        {
                            "region": serializers.CharField(allow_null=True),
                            "name": serializers.CharField(),
                            "citizens": serializers.IntegerField(),
                            "people": serializers.IntegerField(),
                        },
                        many=True,
                    ),
                },
            ),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def stats(self, request: Request) -> Response:
        """Per region of the country: citizens, and people with their households, present
        today. Region null counts presences with no region."""
        country = (request.query_params.get("country") or "").strip().upper()
        if not country:
            raise exceptions.ValidationError({"country": [_("This field is required.")]})
        if country not in _register_countries(request):
            raise exceptions.NotFound()
        today = timezone.localdate()
        rows = selectors.presence_stats(country_code=country, on_date=today)
        return Response(
            {
                "country": country,
                "date": today,
                "regions": [
                    {
                        "region": row.region_code,
                        "name": row.region_name,
                        "citizens": row.citizens,
                        "people": row.people,
                    }
                    for row in rows
                ],
            }
        )


# --- Citizen self-service -------------------------------------------------------------------


class CitizenTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Citizen <token>`, the token from POST /api/v1/me/token/.

    The citizen is `request.auth`; `request.user` stays anonymous (citizens are not users)."""

    keyword = "Citizen"

    def authenticate(self, request: Request) -> tuple[Any, Citizen] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace") != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        citizen_id = tokens.me_token_citizen_id(header[1].decode(errors="replace"))
        citizen = selectors.citizen_get(citizen_id=citizen_id) if citizen_id else None
        if citizen is None:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        return AnonymousUser(), citizen

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class CitizenTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registrations.api.CitizenTokenAuthentication"
    name = "citizenToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Citizen <token>` from POST /api/v1/me/token/",
        }


class IsCitizen(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, Citizen)


class CitizenView(APIView):
    authentication_classes = [CitizenTokenAuthentication]
    permission_classes = [IsCitizen]

    @property
    def citizen(self) -> Citizen:
        citizen = self.request.auth
        assert isinstance(citizen, Citizen)  # noqa: S101 - guaranteed by IsCitizen
        return citizen


class AccessCodeRequestSerializer(serializers.Serializer[Any]):
    email = StrictCharField(max_length=TEXT_MAX)


class AccessTokenRequestSerializer(AccessCodeRequestSerializer):
    code = StrictCharField(max_length=6, min_length=6)


class AccessTokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="seconds")


@extend_schema(tags=["me"])
class AccessCodeView(APIView):
    """Email a 6-digit sign-in code to a registered address. The answer is the same whether
    the address is registered or not."""

    authentication_classes: list[type[authentication.BaseAuthentication]] = []
    permission_classes = [permissions.AllowAny]
    throttle_scope = "registration"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=AccessCodeRequestSerializer, responses={202: AcceptedSerializer})
    def post(self, request: Request) -> Response:
        serializer = AccessCodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.access_code_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": str(_("If this address is registered, a code is on its way."))},
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["me"])
class AccessTokenView(APIView):
    """Exchange the emailed code for a self-service token valid 30 minutes."""

    authentication_classes: list[type[authentication.BaseAuthentication]] = []
    permission_classes = [permissions.AllowAny]
    throttle_scope = "registration"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=AccessTokenRequestSerializer, responses={200: AccessTokenSerializer})
    def post(self, request: Request) -> Response:
        serializer = AccessTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.access_token_issue(
            email=serializer.validated_data["email"], code=serializer.validated_data["code"]
        )
        return Response({"token": token, "expires_in": int(tokens.ME_MAX_AGE.total_seconds())})


class MeUpdateSerializer(PersonInputSerializer):
    household = HouseholdMemberInputSerializer(many=True, required=False)


@extend_schema(tags=["me"])
class MeView(CitizenView):
    """The signed-in citizen's registration: read, update (PUT the whole person), delete."""

    def _render(self) -> Response:
        citizen = (
            Citizen.objects.filter(id=self.citizen.id)
            .prefetch_related("household_members", "presences")
            .get()
        )
        return Response(CitizenSerializer(citizen).data)

    @extend_schema(responses=CitizenSerializer)
    def get(self, request: Request) -> Response:
        return self._render()

    @extend_schema(request=MeUpdateSerializer, responses=CitizenSerializer)
    def put(self, request: Request) -> Response:
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.citizen_update(citizen=self.citizen, person=serializer.person())
        if "household" in serializer.validated_data:
            services.household_replace(
                citizen=self.citizen,
                household=_household_input(serializer.validated_data["household"]),
            )
        return self._render()

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        services.citizen_delete(citizen=self.citizen)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhoneCodeSerializer(serializers.Serializer[Any]):
    code = StrictCharField(max_length=6, min_length=6)


@extend_schema(tags=["me"])
class MePhoneCodeView(CitizenView):
    """Text a 6-digit code to the registered mobile number (valid 10 minutes)."""

    throttle_scope = "registration"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=None, responses={202: AcceptedSerializer})
    def post(self, request: Request) -> Response:
        services.phone_verification_request(citizen=self.citizen)
        return Response(
            {"detail": str(_("A code is on its way by text message."))},
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["me"])
class MePhoneVerifyView(CitizenView):
    """Confirm the mobile number with the code it received; a few wrong codes void it."""

    @extend_schema(request=PhoneCodeSerializer, responses=CitizenSerializer)
    def post(self, request: Request) -> Response:
        serializer = PhoneCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.phone_verify(citizen=self.citizen, code=serializer.validated_data["code"])
        citizen = (
            Citizen.objects.filter(id=self.citizen.id)
            .prefetch_related("household_members", "presences")
            .get()
        )
        return Response(CitizenSerializer(citizen).data)


class TripInputSerializer(serializers.Serializer[Any]):
    legs = PresenceInputSerializer(many=True)


@extend_schema(tags=["me"])
class MePresencesView(CitizenView):
    """The citizen's presences; POST adds a trip of one or more legs."""

    @extend_schema(responses=PresenceSerializer(many=True))
    def get(self, request: Request) -> Response:
        presences = selectors.presences_of_citizen(citizen=self.citizen)
        return Response(PresenceSerializer(presences, many=True).data)

    @extend_schema(request=TripInputSerializer, responses={201: PresenceSerializer(many=True)})
    def post(self, request: Request) -> Response:
        serializer = TripInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        legs = services.trip_add(
            citizen=self.citizen,
            legs=[_presence_input(leg) for leg in serializer.validated_data["legs"]],
        )
        return Response(PresenceSerializer(legs, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["me"])
class MePresenceLeaveView(CitizenView):
    """ "I have left": ends the presence today (one not yet begun is removed)."""

    @extend_schema(request=None, responses={200: PresenceSerializer, 204: None})
    def post(self, request: Request, presence_id: str) -> Response:
        presence = services.presence_check_out(citizen=self.citizen, presence_id=presence_id)
        if presence is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(PresenceSerializer(presence).data)


@extend_schema(tags=["me"])
class MeExportView(CitizenView):
    """Everything the register holds about the citizen, as JSON."""

    @extend_schema(responses={200: {"type": "object"}})
    def get(self, request: Request) -> Response:
        return Response(selectors.citizen_export(citizen=self.citizen))


# Mounted under /api/v1/ next to the router's routes (see consular/api.py).
me_urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/code/", AccessCodeView.as_view(), name="me-code"),
    path("me/token/", AccessTokenView.as_view(), name="me-token"),
    path("me/presences/", MePresencesView.as_view(), name="me-presences"),
    path(
        "me/presences/<uuid:presence_id>/leave/",
        MePresenceLeaveView.as_view(),
        name="me-presence-leave",
    ),
    path("me/export/", MeExportView.as_view(), name="me-export"),
    path("me/phone/code/", MePhoneCodeView.as_view(), name="me-phone-code"),
    path("me/phone/verify/", MePhoneVerifyView.as_view(), name="me-phone-verify"),
]
