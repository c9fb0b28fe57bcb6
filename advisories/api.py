"""REST: advisories are public once published; staff draft and move them through the workflow
for the countries of their posts. Countries gain their current levels here, since regions
knows nothing of advisories."""

import datetime
from typing import Any, cast

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from advisories import review, services
from advisories.levels import effective_levels, level_colour, level_name
from advisories.models import Advisory, Indicator, Level, Notify, Posture, RegionOverride
from advisories.public_pages import published_api
from advisories.selectors import (
    advisories_of_staff,
    advisories_public,
    current_level_subquery,
)
from core.api import StrictCharField
from core.exceptions import ValidationFailed
from regions.api import CountrySerializer, CountryViewSet, RegionSerializer
from regions.models import Country
from regions.selectors import countries_all, regions_all

TEXT_FIELDS = [
    "assistance_note_en",
    "assistance_note_fr",
    "summary_en",
    "summary_fr",
    "body_en",
    "body_fr",
    "instructions_en",
    "instructions_fr",
    "change_note_en",
    "change_note_fr",
]


def _language() -> str:
    return get_language() or "en"


class OverrideSerializer(serializers.ModelSerializer[RegionOverride]):
    region = serializers.CharField(source="region_id")
    level_name = serializers.SerializerMethodField()
    colour = serializers.SerializerMethodField()

    class Meta:
        model = RegionOverride
        fields = ["region", "level", "level_name", "colour", "note_en", "note_fr"]
        read_only_fields = fields

    def get_level_name(self, override: RegionOverride) -> str:
        return level_name(level=override.level, language=_language())

    def get_colour(self, override: RegionOverride) -> str:
        return level_colour(level=override.level)


class AdvisorySerializer(serializers.ModelSerializer[Advisory]):
    country = serializers.CharField(source="country_id")
    level = serializers.IntegerField(source="country_level")
    level_name = serializers.SerializerMethodField()
    colour = serializers.SerializerMethodField()
    overrides = OverrideSerializer(many=True)

    class Meta:
        model = Advisory
        fields = [
            "id",
            "country",
            "status",
            "version",
            "level",
            "level_name",
            "colour",
            "overrides",
            "indicators",
            "posture",
            *TEXT_FIELDS,
            "notify",
            "based_on",
            "supersedes",
            "scheduled_for",
            "submitted_at",
            "approved_at",
            "published_at",
            "superseded_at",
            "withdrawn_at",
        ]
        read_only_fields = fields

    def get_level_name(self, advisory: Advisory) -> str:
        return level_name(level=advisory.country_level, language=_language())

    def get_colour(self, advisory: Advisory) -> str:
        return level_colour(level=advisory.country_level)


class OverrideInputSerializer(serializers.Serializer[Any]):
    region = StrictCharField(max_length=6)
    level = serializers.ChoiceField(choices=Level.choices)
    note_en = StrictCharField(max_length=500, required=False, default="", allow_blank=True)
    note_fr = StrictCharField(max_length=500, required=False, default="", allow_blank=True)


class DraftInputSerializer(serializers.Serializer[Any]):
    """A draft's content; everything is optional, a new draft starts from the current version."""

    level = serializers.ChoiceField(choices=Level.choices, required=False, source="country_level")
    indicators = serializers.ListField(
        child=serializers.ChoiceField(choices=Indicator.choices), required=False
    )
    posture = serializers.ChoiceField(choices=Posture.choices, required=False)
    notify = serializers.ChoiceField(
        choices=Notify.choices,
        required=False,
        help_text="Whom publishing tells: the regions whose level changed (the default), the "
        "regions whose level or regional advice changed, or the whole country. Any but the "
        "first needs the change note in English and French: it is what people read.",
    )
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)
    overrides = OverrideInputSerializer(many=True, required=False)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        for name in TEXT_FIELDS:
            fields[name] = StrictCharField(required=False, allow_blank=True)
        return fields

    def to_service(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        overrides = data.pop("overrides", None)
        return {
            "fields": data,
            "overrides": None
            if overrides is None
            else [
                services.OverrideInput(
                    region_code=item["region"].upper(),
                    level=item["level"],
                    note_en=item["note_en"],
                    note_fr=item["note_fr"],
                )
                for item in overrides
            ],
        }


class DraftCreateSerializer(DraftInputSerializer):
    country = StrictCharField(max_length=2)


class CommentSerializer(serializers.Serializer[Any]):
    comment = StrictCharField(required=False, default="", allow_blank=True)


class ApproveSerializer(CommentSerializer):
    confirm_reach = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approve even though the version tells nobody, or leaves people whose "
        "advice changes untold (the review's `warnings`).",
    )


class ReachSerializer(serializers.Serializer[Any]):
    people = serializers.IntegerField()
    messages = serializers.IntegerField()
    by_channel = serializers.DictField(child=serializers.IntegerField())
    by_region = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()))
    by_language = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField())
    )


class SmsPreviewSerializer(serializers.Serializer[Any]):
    language = serializers.CharField()
    region_code = serializers.CharField(help_text="Empty for the people with no region.")
    text = serializers.CharField()
    segments = serializers.IntegerField()
    left_out = serializers.ListField(child=serializers.CharField())


class ReviewSerializer(serializers.Serializer[Any]):
    reach = ReachSerializer(allow_null=True, help_text="Null when approving tells nobody.")
    untold_people = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="People registered in regions whose advice changes untold, by region code.",
    )
    sms = SmsPreviewSerializer(many=True)
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="What approving needs `confirm_reach` for."
    )


class ReasonSerializer(serializers.Serializer[Any]):
    reason = StrictCharField(required=False, default="", allow_blank=True)


LIST_PARAMETERS = [
    OpenApiParameter("country", str, description="ISO 3166-1 alpha-2 code"),
    OpenApiParameter("level", int, enum=[1, 2, 3, 4], description="Country level"),
    OpenApiParameter(
        "published_since", OpenApiTypes.DATETIME, description="ISO 8601 date-time with its offset"
    ),
    OpenApiParameter("status", str, enum=Advisory.Status.values),
]


def _moment(value: str, *, field: str) -> datetime.datetime:
    """An ISO 8601 date-time with its offset, in UTC: PostgreSQL refuses offsets past 15:59
    that ISO 8601 allows, and a date that does not exist (30 February) parses as an error."""
    try:
        moment = parse_datetime(value)
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        pass
    raise ValidationFailed(_("Give an ISO 8601 date-time with its time zone."), field=field)


def _filtered(queryset: QuerySet[Advisory], params: Any) -> QuerySet[Advisory]:
    """The list filters; a malformed value is a 400 naming the parameter."""
    if country := params.get("country"):
        queryset = queryset.filter(country_id=country.upper())
    if level := params.get("level"):
        if level not in {"1", "2", "3", "4"}:
            raise ValidationFailed(_("A level is 1, 2, 3 or 4."), field="level")
        queryset = queryset.filter(country_level=int(level))
    if since := params.get("published_since"):
        queryset = queryset.filter(published_at__gte=_moment(since, field="published_since"))
    if state := params.get("status"):
        if state not in Advisory.Status.values:
            raise ValidationFailed(_("Unknown status."), field="status")
        queryset = queryset.filter(status=state)
    return queryset


@extend_schema(tags=["advisories"])
class AdvisoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Travel advisory versions. Anyone reads the published ones; staff also see the drafts of
    their posts' countries and move them through draft -> submitted -> approved -> published."""

    serializer_class = AdvisorySerializer
    filter_backends: list[type] = []

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action in ("list", "retrieve"):
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Advisory]:
        user = self.request.user
        if isinstance(user, User) and user.is_authenticated:
            queryset = advisories_of_staff(user=user)
        else:
            queryset = advisories_public()
        if self.action == "list":
            queryset = _filtered(queryset, self.request.query_params)
        return queryset

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Published versions, newest first (staff also see their countries' drafts)."""
        return super().list(request, *args, **kwargs)

    def _user(self) -> User:
        return cast(User, self.request.user)

    def _render(self, advisory: Advisory, status_code: int = status.HTTP_200_OK) -> Response:
        advisory = self.get_queryset().get(pk=advisory.pk)
        return Response(AdvisorySerializer(advisory).data, status=status_code)

    @extend_schema(request=DraftCreateSerializer, responses={201: AdvisorySerializer})
    def create(self, request: Request) -> Response:
        """Start a draft for a country of your posts (editors)."""
        serializer = DraftCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        country = serializer.validated_data.pop("country")
        advisory = services.advisory_draft_create(
            country_code=country, author=self._user(), **serializer.to_service()
        )
        return self._render(advisory, status.HTTP_201_CREATED)

    @extend_schema(request=DraftInputSerializer, responses=AdvisorySerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Edit a draft; submitted and published versions answer 409."""
        advisory = self.get_object()
        # Every field is optional already, so any subset is a valid PATCH; `partial=True` would
        # also strip each override's defaults (its notes), which the service needs.
        serializer = DraftInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advisory = services.advisory_draft_update(
            advisory=advisory, editor=self._user(), **serializer.to_service()
        )
        return self._render(advisory)

    @extend_schema(request=CommentSerializer, responses=AdvisorySerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advisory = services.advisory_submit(
            advisory=self.get_object(),
            submitted_by=self._user(),
            comment=serializer.validated_data["comment"],
        )
        return self._render(advisory)

    @extend_schema(responses=ReviewSerializer)
    @action(detail=True, methods=["get"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """What approving this version would send: people and messages by channel, region and
        language (counted as the fan-out would write them), each kind of reader's text
        message with its parts, and what approving needs confirming."""
        found = review.advisory_review(advisory=self.get_object())
        return Response(
            ReviewSerializer(
                {
                    "reach": found.reach,
                    "untold_people": found.untold_people,
                    "sms": found.sms,
                    "warnings": found.warnings,
                }
            ).data
        )

    @extend_schema(request=ApproveSerializer, responses=AdvisorySerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a submitted version (another person than its authors): it publishes now, or
        at its `scheduled_for`. A version that tells nobody, or leaves people whose advice
        changes untold, needs `confirm_reach` (400 `confirmation_required` without)."""
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advisory = services.advisory_approve(
            advisory=self.get_object(),
            approved_by=self._user(),
            comment=serializer.validated_data["comment"],
            confirm_reach=serializer.validated_data["confirm_reach"],
        )
        return self._render(advisory)

    @extend_schema(request=ReasonSerializer, responses=AdvisorySerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advisory = services.advisory_reject(
            advisory=self.get_object(),
            rejected_by=self._user(),
            reason=serializer.validated_data["reason"],
        )
        return self._render(advisory)

    @extend_schema(request=ReasonSerializer, responses=AdvisorySerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advisory = services.advisory_withdraw(
            advisory=self.get_object(),
            withdrawn_by=self._user(),
            reason=serializer.validated_data["reason"],
        )
        return self._render(advisory)


class RegionLevelSerializer(RegionSerializer):
    level = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "level"]
        read_only_fields = fields


class CountryLevelDetailSerializer(CountrySerializer):
    level = serializers.IntegerField(read_only=True, allow_null=True)
    regions = serializers.SerializerMethodField()

    class Meta(CountrySerializer.Meta):
        fields = [*CountrySerializer.Meta.fields, "level", "regions"]

    @extend_schema_field(RegionLevelSerializer(many=True))
    def get_regions(self, country: Country) -> list[dict[str, Any]]:
        regions = list(country.regions.all())
        levels: dict[str, int] = {}
        if getattr(country, "level", None) is not None:
            levels = effective_levels(
                country_level=country.level,  # type: ignore[attr-defined]
                overrides={
                    region.code: region.override  # type: ignore[attr-defined]
                    for region in regions
                    if region.override is not None  # type: ignore[attr-defined]
                },
                parents=[(region.code, region.parent_id) for region in regions],
            )
        for region in regions:
            region.level = levels.get(region.code)  # type: ignore[attr-defined]
        return list(RegionLevelSerializer(regions, many=True).data)


class AdvisoryCountryViewSet(CountryViewSet):
    """ISO 3166-1 countries and their ISO 3166-2 regions, named in the request's language
    (`Accept-Language: fr`). A country's detail carries the level (1-4) of its current advisory
    and the effective level of each region (null without a current advisory); the public
    advisories pages and `/api/v1/advisories/?country=` have the texts."""

    @classmethod
    def as_view(cls, actions: Any = None, **initkwargs: Any) -> Any:
        # Both the list and a country's detail change only with a publication.
        return published_api(super().as_view(actions, **initkwargs))

    def get_queryset(self) -> QuerySet[Country]:
        if self.action != "retrieve":
            return super().get_queryset()
        override = RegionOverride.objects.filter(
            region_id=OuterRef("code"), advisory__status=Advisory.Status.PUBLISHED
        ).values("level")[:1]
        return (
            countries_all()
            .annotate(level=current_level_subquery())
            .prefetch_related(
                Prefetch(
                    "regions",
                    queryset=regions_all().annotate(override=Subquery(override)).order_by("code"),
                )
            )
        )

    def get_serializer_class(self) -> type[CountrySerializer]:
        if self.action == "retrieve":
            return CountryLevelDetailSerializer
        return super().get_serializer_class()
