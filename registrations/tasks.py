"""Celery tasks: ids in, one service call, a small summary out. Each is safe to run twice."""

from celery import shared_task

from core.channels import SendError
from registrations import services, verification_emails

CONFIRMATION_CHUNK = 200


@shared_task(name=verification_emails.SEND_DUE_VERIFICATION_EMAILS, queue="email")
def send_due_verification_emails() -> dict[str, int]:
    return {"sent": verification_emails.verification_emails_send()}


@shared_task(name=services.SEND_MANAGE_LINK, queue="email")
def send_manage_link(citizen_id: str) -> dict[str, int]:
    return {"sent": int(services.manage_link_send(citizen_id=citizen_id))}


@shared_task(name=services.SEND_MANAGE_LINK_TO_ADDRESS, queue="email")
def send_manage_link_to_address(email_hashes: list[str]) -> dict[str, int]:
    return {"sent": int(services.manage_link_send_to_address(email_hashes=email_hashes))}


@shared_task(name=services.SEND_ACCESS_CODE_TO_ADDRESS, queue="email")
def send_access_code_to_address(email_hashes: list[str]) -> dict[str, int]:
    return {"sent": int(services.access_code_send_to_address(email_hashes=email_hashes))}


@shared_task(
    name=services.SEND_PHONE_CODE,
    queue="sms",
    autoretry_for=(SendError,),
    retry_backoff=True,
    max_retries=3,
)
def send_phone_code(citizen_id: str) -> dict[str, int]:
    return {"sent": int(services.phone_code_send(citizen_id=citizen_id))}


@shared_task(queue="email")
def send_confirmation_requests(citizen_ids: list[str]) -> dict[str, int]:
    sent = sum(
        services.confirmation_request_send(citizen_id=citizen_id) for citizen_id in citizen_ids
    )
    return {"sent": sent}


@shared_task
def apply_retention() -> dict[str, int]:
    return services.retention_apply()


@shared_task
def request_yearly_confirmations() -> dict[str, int]:
    """Mark the residents due and email them in chunks (one task per chunk, not per person)."""
    ids = services.confirmation_requests_due()
    for start in range(0, len(ids), CONFIRMATION_CHUNK):
        send_confirmation_requests.delay(ids[start : start + CONFIRMATION_CHUNK])
    return {"due": len(ids)}
