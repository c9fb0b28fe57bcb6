"""The naive baseline the hand-off is compared with: one task per recipient that creates its
row with the ORM and sends on a fresh connection. Workers load it with `--include bench.naive`."""

from celery import shared_task
from django.utils import timezone

from notifications.channels import get_channel
from notifications.models import Alert, Delivery
from notifications.rendering import LevelChangeRenderer
from registrations.models import Citizen, Presence
from registrations.selectors import citizen_contacts


@shared_task(name="bench.naive_deliver")
def naive_deliver(alert_id: str, citizen_id: str, channel_name: str) -> None:
    """What a first version would do: one task per recipient, ORM row, fresh connection."""
    alert = Alert.objects.get(id=alert_id)
    citizen = Citizen.objects.get(id=citizen_id)
    contact = citizen_contacts(citizen_ids=[citizen.id])[citizen.id]
    presence = Presence.objects.filter(citizen=citizen).first()
    delivery, _ = Delivery.objects.get_or_create(
        alert=alert,
        citizen=citizen,
        channel=channel_name,
        defaults={"next_attempt_at": timezone.now(), "created_at": timezone.now()},
    )
    channel = get_channel(channel_name)
    channel.open()
    try:
        receipt = channel.send(
            LevelChangeRenderer(alert).message(
                delivery_id=delivery.id,
                channel=channel_name,
                region_code=(presence.region_id or "") if presence else "",
                contact=contact,
            )
        )
    finally:
        channel.close()
    delivery.status, delivery.provider_id, delivery.sent_at = (
        "sent",
        receipt.provider_id,
        timezone.now(),
    )
    delivery.save()


def naive_enqueue(alert: Alert) -> int:
    count = 0
    for citizen in Citizen.objects.filter(presences__country_id="ML"):
        for channel, ready in (
            ("email", citizen.email_verified_at),
            ("sms", citizen.phone_verified_at),
        ):
            if ready:
                naive_deliver.apply_async(
                    args=(str(alert.id), str(citizen.id), channel), queue=channel
                )
                count += 1
    return count
