import factory
from django.utils import timezone

from notifications.models import Alert, Delivery


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = Alert.Kind.MESSAGE
    state = Alert.State.SENDING
    country_id = "ML"
    region_codes = ["ML-7"]


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    alert = factory.SubFactory(AlertFactory)
    channel = "sms"
    status = Delivery.Status.SENT
    provider_id = factory.Sequence(lambda n: f"SM{n:032d}")
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    sent_at = factory.LazyFunction(timezone.now)
