"""A sign-up, a cancellation or a check-in that cannot get its row lock within lock_timeout answers the translated
503 "busy" page with Retry-After, and saves nothing: no registration, subscriber, mail, audit entry or promotion."""

import pytest

from accounts.models import AuditEntry
from events import services
from events.models import Event, Registration
from newsletters.models import ConsentRecord, Subscriber
from outbox.models import OutboxMessage
from tests.factories import EventFactory, StaffFactory, staff_totp_activate
from tests.support.locks import RowHolder
from tests.support.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = Registration.Status


@pytest.fixture(autouse=True)
def _short_lock_timeout(settings):
    require_postgres()
    settings.DB_LOCK_TIMEOUT_MS = 50


def assert_busy(response, heading: str) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert heading in response.content.decode()


def sign_up(event, email: str) -> Registration:
    return services.registration_create(event=event, full_name="Grace Hopper", email=email, language="en")


@pytest.mark.parametrize(("language", "heading"), [("da", "Travlt lige nu"), ("en", "Busy right now")])
def test_a_sign_up_with_a_newsletter_opt_in_that_cannot_get_the_event_lock_saves_nothing(client, language, heading):
    event = EventFactory(capacity=5)
    data = {
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "organisation_name": "Analytical",
        "consent": "on",
        "newsletter_opt_in": "on",
    }
    with RowHolder(Event, event.pk):
        response = client.post(f"/{language}/events/{event.slug}/register/", data)
    assert_busy(response, heading)
    # The newsletter request and the mails come before the lock, in the same transaction: all rolled back.
    assert Registration.objects.count() == 0
    assert Subscriber.objects.count() == 0
    assert ConsentRecord.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    response = client.post(f"/{language}/events/{event.slug}/register/", data)
    assert response.status_code == 302
    assert list(Registration.objects.values_list("email", "status")) == [("ada@example.com", Status.CONFIRMED)]
    assert Subscriber.objects.get().email == "ada@example.com"


@pytest.mark.parametrize(("language", "heading"), [("da", "Travlt lige nu"), ("en", "Busy right now")])
def test_a_cancellation_that_cannot_get_the_event_lock_saves_nothing_and_promotes_no_one(client, language, heading):
    event = EventFactory(capacity=1)
    seated = sign_up(event, "seated@example.com")
    waiting = sign_up(event, "waiting@example.com")
    mails = OutboxMessage.objects.count()
    url = f"/{language}/events/registration/{services.registration_token(seated)}/cancel/"
    with RowHolder(Event, event.pk):
        response = client.post(url)
    assert_busy(response, heading)
    assert dict(Registration.objects.values_list("email", "status")) == {
        "seated@example.com": Status.CONFIRMED,
        "waiting@example.com": Status.WAITLISTED,
    }
    assert OutboxMessage.objects.count() == mails
    assert not AuditEntry.objects.filter(action="events.registration.cancel").exists()
    response = client.post(url)
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert OutboxMessage.objects.count() == mails + 2  # the cancellation and the promotion


@pytest.mark.parametrize(("language", "heading"), [("da", "Travlt lige nu"), ("en", "Busy right now")])
def test_a_check_in_that_cannot_get_the_registration_lock_saves_nothing(client, language, heading):
    event = EventFactory(capacity=5)
    registration = sign_up(event, "door@example.com")
    staff = StaffFactory()
    staff_totp_activate(staff)
    client.force_login(staff)
    url = f"/{language}/events/{event.slug}/check-in/"
    with RowHolder(Registration, registration.pk):
        response = client.post(url, {"registration": str(registration.pk)})
    assert_busy(response, heading)
    registration.refresh_from_db()
    assert registration.attendance == Registration.Attendance.UNKNOWN
    assert registration.checked_in_at is None
    assert not AuditEntry.objects.filter(action="events.registration.check_in").exists()
    response = client.post(url, {"registration": str(registration.pk)})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.attendance == Registration.Attendance.ATTENDED
