import importlib

import pytest
from django.apps import apps

from tests.notifications.conftest import make_citizen
from tests.notifications.factories import AlertFactory, DeliveryFactory

pytestmark = pytest.mark.usefixtures("geography")


def test_alerts_fanned_out_before_people_were_counted_count_them_from_their_rows():
    migration = importlib.import_module("notifications.migrations.0012_alert_people_and_messages")
    alert = AlertFactory(messages=3)
    both, email_only = make_citizen("ML-7"), make_citizen("ML-7", sms=False)
    DeliveryFactory(alert=alert, citizen=both, channel="email")
    DeliveryFactory(alert=alert, citizen=both, channel="sms")
    DeliveryFactory(alert=alert, citizen=email_only, channel="email")
    nothing_sent = AlertFactory(messages=0)

    migration.count_people(apps, None)

    alert.refresh_from_db()
    nothing_sent.refresh_from_db()
    assert (alert.people, nothing_sent.people) == (2, 0)
