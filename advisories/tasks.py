from celery import shared_task

from advisories.services import advisories_publish_due


@shared_task(name="advisories.publish_due_advisories")
def publish_due_advisories() -> dict[str, int]:
    """Beat: publish the approved versions whose scheduled time has come."""
    return {"published": len(advisories_publish_due())}
