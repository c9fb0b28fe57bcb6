import pytest

from notifications.models import Delivery

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Delivery.Status


@pytest.mark.usefixtures("geography")
def test_an_alert_removed_through_the_orm_takes_its_ledger_rows_with_it():
    # The ledger keeps no database foreign key to its alert (see `Delivery.alert`).
    from tests.notifications.factories import DeliveryFactory

    kept = DeliveryFactory()
    removed = DeliveryFactory()

    removed.alert.delete()

    assert list(Delivery.objects.all()) == [kept]
