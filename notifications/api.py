import logging
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api import StrictCharField
from core.exceptions import NotFound
from core.pagination import CursorPagination
from notifications import alerts, selectors, staff_messages
from notifications.alerts import LANGUAGES, MessageTexts
from notifications.models import Alert, Channel, Delivery

logger = logging.getLogger(__name__)


@extend_schema_serializer(deprecate_fields=["recipients"])
class AlertSerializer(serializers.ModelSerializer[Alert]):
    country = serializers.CharField(source="country_id", read_only=True)
    advisory = serializers.UUIDField(source="advisory_id", read_only=True, allow_null=True)
    people = serializers.IntegerField(
        read_only=True, help_text="Citizens the fan-out wrote to, each counted once."
    )
    messages = serializers.IntegerField(
        read_only=True, help_text="Deliveries the fan-out created: one per person and channel."
    )
    recipients = serializers.IntegerField(
        source="messages",
        read_only=True,
        help_text="Deprecated: the same number as `messages` (it never counted people).",
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "state",
            "country",
            "advisory",
            "changes",
            "people",
            "messages",
            "recipients",
            "created_at",
            "fanned_out_at",
            "finished_at",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer[selectors.AlertProgress]):
    people = serializers.IntegerField(help_text="Citizens the fan-out wrote to.")
    messages = serializers.IntegerField(help_text="Deliveries the fan-out created.")
    counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Deliveries by channel, then by status.",
    )
    handed_off_last_minute = serializers.IntegerField()
    rate_per_s = serializers.FloatField()
    remaining = serializers.IntegerField(help_text="Deliveries pending or being sent.")
    eta_seconds = serializers.IntegerField(
        allow_null=True, help_text="At the last minute's rate; null while nothing moves."
    )


TEXT_PARTS = ("subject", "text", "sms")


class StaffMessageSerializer(serializers.ModelSerializer[Alert]):
    """What a staff message says and where it is in its approval."""

    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    approved_by = serializers.CharField(
        source="approved_by.username", allow_null=True, default=None
    )
    subject_en = serializers.SerializerMethodField()
    text_en = serializers.SerializerMethodField()
    sms_en = serializers.SerializerMethodField()
    subject_fr = serializers.SerializerMethodField()
    text_fr = serializers.SerializerMethodField()
    sms_fr = serializers.SerializerMethodField()
    sms_segments = serializers.SerializerMethodField(
        help_text="SMS parts of the text message, by language (GSM-7 or UCS-2)."
    )

    class Meta:
        model = Alert
        fields = [
            "region_codes",
            *(f"{part}_{language}" for language in LANGUAGES for part in TEXT_PARTS),
            "sms_segments",
            "send_email",
            "send_sms",
            "created_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "rejection_reason",
        ]
        read_only_fields = fields

    def _text(self, alert: Alert, language: str, part: str) -> str:
        return str(alert.texts.get(language, {}).get(part, ""))

    def get_subject_en(self, alert: Alert) -> str:
        return self._text(alert, "en", "subject")

    def get_text_en(self, alert: Alert) -> str:
        return self._text(alert, "en", "text")

    def get_sms_en(self, alert: Alert) -> str:
        return self._text(alert, "en", "sms")

    def get_subject_fr(self, alert: Alert) -> str:
        return self._text(alert, "fr", "subject")

    def get_text_fr(self, alert: Alert) -> str:
        return self._text(alert, "fr", "text")

    def get_sms_fr(self, alert: Alert) -> str:
        return self._text(alert, "fr", "sms")

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_sms_segments(self, alert: Alert) -> dict[str, int]:
        return {
            language: staff_messages.sms_segments(self._text(alert, language, "sms"))
            for language in LANGUAGES
        }


class AlertDetailSerializer(AlertSerializer):
    progress = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(
        help_text="A staff message's texts and approval; null for other alerts."
    )

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "progress", "message"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, alert: Alert) -> dict[str, Any]:
        return dict(ProgressSerializer(selectors.alert_progress(alert=alert)).data)

    @extend_schema_field(StaffMessageSerializer(allow_null=True))
    def get_message(self, alert: Alert) -> dict[str, Any] | None:
        if alert.kind != Alert.Kind.STAFF_MESSAGE:
            return None
        return dict(StaffMessageSerializer(alert).data)


class StaffMessageUpdateSerializer(serializers.Serializer[Any]):
    region_codes = serializers.ListField(
        child=StrictCharField(max_length=10),
        max_length=500,
        required=False,
        help_text="ISO 3166-2 codes of the country's regions; none: the whole country.",
    )
    subject_en = StrictCharField(max_length=200, allow_blank=True, required=False)
    text_en = StrictCharField(max_length=10_000, allow_blank=True, required=False)
    sms_en = StrictCharField(max_length=1_000, allow_blank=True, required=False)
    subject_fr = StrictCharField(max_length=200, allow_blank=True, required=False)
    text_fr = StrictCharField(max_length=10_000, allow_blank=True, required=False)
    sms_fr = StrictCharField(max_length=1_000, allow_blank=True, required=False)
    send_email = serializers.BooleanField(required=False)
    send_sms = serializers.BooleanField(required=False)

    def texts(self, current: Alert | None = None) -> dict[str, MessageTexts] | None:
        """The texts given, completed from the current ones; None when none was given."""
        data = self.validated_data
        if not any(f"{part}_{lang}" in data for lang in LANGUAGES for part in TEXT_PARTS):
            return None
        stored = current.texts if current is not None else {}
        return {
            language: MessageTexts(
                **{
                    part: data.get(f"{part}_{language}", stored.get(language, {}).get(part, ""))
                    for part in TEXT_PARTS
                }
            )
            for language in LANGUAGES
        }


class StaffMessageCreateSerializer(StaffMessageUpdateSerializer):
    country = StrictCharField(max_length=2, help_text="ISO 3166-1 code.")


class RecipientCountsSerializer(serializers.Serializer[selectors.RecipientCounts]):
    """Whom a message would reach (a staff message's or a safety check's preview), counted by
    the SQL its fan-out inserts with."""

    people = serializers.IntegerField(help_text="People the message would be sent to.")
    messages = serializers.IntegerField(help_text="Deliveries the fan-out would create.")
    by_channel = serializers.DictField(child=serializers.IntegerField())
    by_region = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='By region code ("": presences naming no region), then "people" and channels.',
    )
    by_language = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='By language, then "people" and channels.',
    )


class StaffMessageRejectionSerializer(serializers.Serializer[Any]):
    reason = StrictCharField(max_length=2000, allow_blank=True)


class TestSendSerializer(serializers.Serializer[staff_messages.TestSendResult]):
    to = serializers.EmailField()
    sent = serializers.IntegerField()
    sms_by_email = serializers.BooleanField()
    note = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    citizen = serializers.UUIDField(source="citizen_id", read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "citizen",
            "channel",
            "region_code",
            "language",
            "status",
            "attempts",
            "error_code",
            "error_reason",
            "sent_at",
            "delivered_at",
            "finished_at",
        ]
        read_only_fields = fields


class DeliveryFilterSerializer(serializers.Serializer[Any]):
    """A delivery list's filters: an unknown value is a 400 naming it, not an empty page."""

    status = serializers.ChoiceField(
        choices=Delivery.Status.choices, required=False, allow_blank=True
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)


class DeliveryPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


@extend_schema(tags=["alerts"])
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts of the countries covered by your posts, with live delivery counts.

    Staff messages are written here too: create a draft, check its preview, test-send it to
    yourself, submit it; another staff member approves it (or rejects it with a reason)."""

    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["state", "kind", "country"]

    def get_queryset(self) -> QuerySet[Alert]:
        user: User = self.request.user  # type: ignore[assignment]
        return selectors.alerts_for_staff(user=user, with_deliveries=self.action == "deliveries")

    def get_serializer_class(self) -> type[serializers.Serializer[Any]]:
        if self.action == "create":
            return StaffMessageCreateSerializer
        if self.action == "partial_update":
            return StaffMessageUpdateSerializer
        return AlertSerializer if self.action == "list" else AlertDetailSerializer

    def _user(self) -> User:
        user: User = self.request.user  # type: ignore[assignment]
        return user

    def _detail(self, alert: Alert, code: int = status.HTTP_200_OK) -> Response:
        alert = self.get_queryset().get(id=alert.id)
        return Response(AlertDetailSerializer(alert).data, status=code)

    @extend_schema(
        request=StaffMessageCreateSerializer,
        responses={201: AlertDetailSerializer},
        summary="Write a staff message (a draft) to chosen regions",
    )
    def create(self, request: Request) -> Response:
        data = StaffMessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = staff_messages.staff_message_create(
            author=self._user(),
            country_code=data.validated_data["country"],
            region_codes=data.validated_data.get("region_codes", []),
            texts=data.texts() or {},
            send_email=data.validated_data.get("send_email", True),
            send_sms=data.validated_data.get("send_sms", True),
        )
        return self._detail(alert, status.HTTP_201_CREATED)

    @extend_schema(
        request=StaffMessageUpdateSerializer,
        responses=AlertDetailSerializer,
        summary="Change a staff message draft",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        data = StaffMessageUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = staff_messages.staff_message_update(
            alert=alert,
            editor=self._user(),
            region_codes=data.validated_data.get("region_codes"),
            texts=data.texts(alert),
            send_email=data.validated_data.get("send_email"),
            send_sms=data.validated_data.get("send_sms"),
        )
        return self._detail(alert)

    @extend_schema(
        responses=RecipientCountsSerializer,
        summary="Recipients the staff message would reach now, by region, channel, language",
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        counts = selectors.staff_message_preview(alert=self._staff_message())
        return Response(RecipientCountsSerializer(counts).data)

    @extend_schema(request=None, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        alert = staff_messages.staff_message_submit(
            alert=self._staff_message(), submitted_by=self._user()
        )
        return self._detail(alert)

    @extend_schema(request=None, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        alert = staff_messages.staff_message_approve(
            alert=self._staff_message(), approver=self._user()
        )
        return self._detail(alert)

    @extend_schema(request=StaffMessageRejectionSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        alert = self._staff_message()
        data = StaffMessageRejectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = staff_messages.staff_message_reject(
            alert=alert, rejected_by=self._user(), reason=data.validated_data["reason"]
        )
        return self._detail(alert)

    @extend_schema(
        request=None,
        responses=TestSendSerializer,
        summary="Send the staff message to yourself (both languages, each channel)",
    )
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request: Request, pk: str | None = None) -> Response:
        result = staff_messages.staff_message_test_send(
            alert=self._staff_message(), user=self._user()
        )
        return Response(TestSendSerializer(result).data)

    def _staff_message(self) -> Alert:
        alert = self.get_object()
        if alert.kind != Alert.Kind.STAFF_MESSAGE:
            raise NotFound(_("Not a staff message."))
        return alert

    @extend_schema(responses=DeliverySerializer(many=True), parameters=[DeliveryFilterSerializer])
    # The alert list's filters do not apply to its deliveries: these two do.
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination, filter_backends=[])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        params = DeliveryFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = selectors.deliveries_of_alert(alert_id=str(alert.id))
        for field, value in params.validated_data.items():
            if value:
                rows = rows.filter(**{field: value})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        alert = alerts.alert_cancel(alert=self.get_object(), cancelled_by=self._user())
        return self._detail(alert)

    @extend_schema(
        request=None,
        responses=inline_serializer("ResendFailed", {"requeued": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], url_path="resend-failed")
    def resend_failed(self, request: Request, pk: str | None = None) -> Response:
        count = alerts.alert_resend_failed(alert=self.get_object(), actor=self._user())
        return Response({"requeued": count})
