"""The ledger has no foreign key to the register: a fan-out and an erasure of one of its
recipients, racing, must still leave no row pointing at the erased citizen."""

import threading
import time

import pytest
from django.db import connection, transaction

from core import personal_data
from notifications.fan_out import alert_fan_out
from notifications.models import Alert, Delivery
from tests.notifications.conftest import make_citizen

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _message_to_gao() -> Alert:
    texts = {"subject": "Leave", "text": "Leave Gao.", "sms": "Leave Gao."}
    return Alert.objects.create(
        kind=Alert.Kind.MESSAGE,
        country_id="ML",
        region_codes=["ML-7"],
        texts={"en": texts, "fr": texts},
    )


def test_an_erasure_during_a_fan_out_unlinks_the_rows_it_wrote(geography):
    citizen = make_citizen("ML-7")
    alert = _message_to_gao()
    fanned_out, erasing = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def fan_out_racing() -> None:
        try:
            with transaction.atomic():
                alert_fan_out(alert_id=str(alert.id))
                fanned_out.set()
                erasing.wait(timeout=10)
                # Without the ledger lock the erasure would finish now, unaware of our rows.
                time.sleep(0.5)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    def erase() -> None:
        try:
            fanned_out.wait(timeout=10)
            erasing.set()
            personal_data.erase(citizen_ids=[citizen.id], reason="request")
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fan_out_racing), threading.Thread(target=erase)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    rows = list(Delivery.objects.filter(alert=alert).values_list("channel", "citizen_id"))
    assert sorted(rows) == [("email", None), ("sms", None)]
