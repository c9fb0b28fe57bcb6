"""The SMS provider's callbacks: delivery reports and texts citizens send us.

Only the configured provider (`SMS_BACKEND`) is listened to, at its own name in the URL; its
class checks the signature and reads the body, so this file knows no provider."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import sms
from core.exceptions import NotFound, PermissionDenied, ValidationFailed
from core.schema import ErrorSerializer
from core.throttling import ScopedRateThrottle
from notifications import receipts
from notifications.models import Channel

WEBHOOK_RESPONSES = {
    204: None,
    400: OpenApiResponse(ErrorSerializer, description="A body the provider should not send."),
    403: OpenApiResponse(ErrorSerializer, description="No valid signature of the provider."),
}


class _SmsWebhook(APIView):
    """Provider callbacks: signed by the provider, never by a session or token."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "webhook"

    def _verified_provider(self, request: Request, provider: str) -> sms.SmsProvider:
        configured = sms.get_backend()
        if provider != configured.name:
            raise NotFound("Unknown provider.")
        if not configured.verify(request._request):
            raise PermissionDenied("Invalid signature.")
        return configured


@extend_schema(tags=["webhooks"], request=None, responses=WEBHOOK_RESPONSES)
class SmsStatusWebhook(_SmsWebhook):
    def post(self, request: Request, provider: str) -> Response:
        report = self._verified_provider(request, provider).parse_status(request._request)
        if report is not None:
            receipts.receipt_apply(
                receipt=receipts.ReceiptInput(
                    channel=Channel.SMS,
                    status=report.status,
                    provider_id=report.provider_id,
                    delivery_id=int(report.reference) if report.reference.isdigit() else None,
                    error_code=report.error_code,
                )
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"], request=None, responses=WEBHOOK_RESPONSES)
class SmsInboundWebhook(_SmsWebhook):
    def post(self, request: Request, provider: str) -> Response:
        sms_provider = self._verified_provider(request, provider)
        text = sms_provider.parse_inbound(request._request)
        if text is None:
            raise ValidationFailed("Sender, text and id are required.", field="body")
        receipts.inbound_record(
            provider=sms_provider.name,
            provider_id=text.provider_id,
            sender=text.sender,
            body=text.body,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
