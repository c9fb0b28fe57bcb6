import logging
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import Membership, User
from accounts.selectors import user_has_role_for_country
from core.exceptions import NotFound, PermissionDenied
from notifications import selectors, services, signatures
from notifications.models import Alert, Channel, Delivery

logger = logging.getLogger(__name__)


class AlertSerializer(serializers.ModelSerializer[Alert]):
    country = serializers.CharField(source="country_id", read_only=True)
    advisory = serializers.UUIDField(source="advisory_id", read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "state",
            "country",
            "advisory",
            "changes",
            "recipients",
            "created_at",
            "fanned_out_at",
            "finished_at",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer[selectors.AlertProgress]):
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


class AlertDetailSerializer(AlertSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "progress"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, alert: Alert) -> dict[str, Any]:
        return dict(ProgressSerializer(selectors.alert_progress(alert_id=str(alert.id))).data)


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


class DeliveryPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


@extend_schema(tags=["alerts"])
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts of the countries covered by your posts, with live delivery counts."""

    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["state", "kind", "country"]

    def get_queryset(self) -> QuerySet[Alert]:
        user: User = self.request.user  # type: ignore[assignment]
        return selectors.alerts_for_staff(user=user)

    def get_serializer_class(self) -> type[AlertSerializer]:
        return AlertSerializer if self.action == "list" else AlertDetailSerializer

    def _alert_for_officer(self) -> Alert:
        alert = self.get_object()
        user: User = self.request.user  # type: ignore[assignment]
        if not (
            user.is_superuser
            or user_has_role_for_country(
                user=user, country_code=alert.country_id, role=Membership.Role.OFFICER
            )
            or user_has_role_for_country(
                user=user, country_code=alert.country_id, role=Membership.Role.ADMIN
            )
        ):
            raise PermissionDenied("Only the post's officers can act on its alerts.")
        return alert

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        rows = selectors.deliveries_of_alert(alert_id=str(alert.id))
        for field in ("status", "channel"):
            value = request.query_params.get(field)
            if value:
                rows = rows.filter(**{field: value})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        alert = services.alert_cancel(alert=self._alert_for_officer())
        return Response(AlertDetailSerializer(alert).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("ResendFailed", {"requeued": serializers.IntegerField()}),
    )
    @action(detail=True, methods=["post"], url_path="resend-failed")
    def resend_failed(self, request: Request, pk: str | None = None) -> Response:
        count = services.alert_resend_failed(alert=self._alert_for_officer())
        return Response({"requeued": count})


TWILIO_STATUSES = {"delivered": "delivered", "undelivered": "failed", "failed": "failed"}
HTTP_STATUSES = {"delivered": "delivered", "failed": "failed", "undelivered": "failed"}


class _SmsWebhook(APIView):
    """Provider callbacks: signed by the provider, never by a session or token."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "webhook"

    def _verified_payload(self, request: Request, provider: str) -> dict[str, str]:
        if provider == "twilio":
            params = {key: request.POST.get(key, "") for key in request.POST}
            url = settings.SITE_URL + request.get_full_path()
            if not signatures.twilio_valid(
                auth_token=settings.TWILIO_AUTH_TOKEN,
                url=url,
                params=params,
                signature=request.headers.get("X-Twilio-Signature", ""),
            ):
                raise PermissionDenied("Invalid signature.")
            return params
        if provider == "http":
            body = request.body
            if not signatures.http_valid(
                secret=settings.SMS_HTTP_WEBHOOK_SECRET,
                body=body,
                signature=request.headers.get("X-Signature", ""),
            ):
                raise PermissionDenied("Invalid signature.")
            data = request.data
            if not isinstance(data, dict):
                raise serializers.ValidationError({"body": ["Expected a JSON object."]})
            return {str(key): str(value) for key, value in data.items()}
        raise NotFound("Unknown provider.")


@extend_schema(tags=["webhooks"], request=None, responses={204: None})
class SmsStatusWebhook(_SmsWebhook):
    def post(self, request: Request, provider: str) -> Response:
        payload = self._verified_payload(request, provider)
        if provider == "twilio":
            new_status = TWILIO_STATUSES.get(payload.get("MessageStatus", ""))
            receipt = services.ReceiptInput(
                channel=Channel.SMS,
                status=new_status or "",
                provider_id=payload.get("MessageSid", ""),
                error_code=payload.get("ErrorCode", ""),
            )
        else:
            new_status = HTTP_STATUSES.get(payload.get("status", ""))
            reference = payload.get("reference", "")
            receipt = services.ReceiptInput(
                channel=Channel.SMS,
                status=new_status or "",
                provider_id=payload.get("id", ""),
                delivery_id=int(reference) if reference.isdigit() else None,
                error_code=payload.get("error_code", ""),
            )
        if new_status is not None:
            services.receipt_apply(receipt=receipt)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"], request=None, responses={204: None})
class SmsInboundWebhook(_SmsWebhook):
    def post(self, request: Request, provider: str) -> Response:
        payload = self._verified_payload(request, provider)
        if provider == "twilio":
            sender, body, provider_id = (
                payload.get("From"),
                payload.get("Body"),
                payload.get("MessageSid"),
            )
        else:
            sender, body, provider_id = payload.get("from"), payload.get("body"), payload.get("id")
        if not (sender and provider_id) or body is None:
            raise serializers.ValidationError({"body": ["Sender, text and id are required."]})
        services.inbound_record(
            provider=provider, provider_id=provider_id, sender=sender, body=body
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
