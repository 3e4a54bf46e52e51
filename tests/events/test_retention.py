"""Retention: guests' details are anonymised a set time after the event, unconfirmed sign-ups purged, old mail
bodies emptied; one nightly run does it, leaves an audit entry with the counts, and the statistics survive."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from dlsc.settings import CELERY_BEAT_SCHEDULE
from events.models import Answer, Meeting, MeetingRequest, Registration
from events.retention import retention_run
from events.tasks import retention_run_task
from newsletters.models import ConsentRecord, Subscriber
from outbox.api import mail_enqueue_rendered
from tests.factories import (
    EventFactory,
    EventQuestionFactory,
    EventRegistrationFactory,
    MatchmakingEventFactory,
    SubscriberFactory,
    UserFactory,
    event_hub,
    matchmaking_profile,
    staff_totp_activate,
)

pytestmark = pytest.mark.django_db


def _event_ended(days_ago: int, **fields):
    ends_at = timezone.now() - timedelta(days=days_ago)
    return EventFactory(starts_at=ends_at - timedelta(hours=3), ends_at=ends_at, **fields)


def _guest(event, **fields):
    registration = EventRegistrationFactory(
        event=event, job_title="CSO", organisation_name="Acme Bio ApS", attendance="attended", **fields
    )
    question = EventQuestionFactory(event=event, kind="text")
    registration.answers.create(question=question, text="Gluten free")
    return registration


@pytest.fixture
def due(settings):
    """One old event with a guest, a cancelled guest and a member; a younger event with a guest."""
    settings.EVENTS_GUEST_RETENTION_DAYS = 365
    old = _event_ended(366, title_en="Old event")
    guests = [
        _guest(old, full_name="Gitte Gæst", email="gitte@example.com"),
        _guest(old, full_name="Carl Cancel", email="carl@example.com", status="cancelled"),
    ]
    member = _guest(old, full_name="Mette Medlem", email="mette@example.com", user=UserFactory())
    young = _guest(_event_ended(364), full_name="Yrsa Ung", email="yrsa@example.com")
    return guests, member, young


def test_guests_of_an_old_event_are_anonymised_and_the_statistics_stay(due):
    guests, member, young = due
    retention_run()
    rows = Registration.objects.order_by("pk").values_list(
        "pk", "full_name", "email", "job_title", "organisation_name", "status", "attendance"
    )
    assert list(rows) == [
        (
            guests[0].pk,
            "",
            f"anonymised-{guests[0].pk}@anonymised.invalid",
            "",
            "Acme Bio ApS",
            "confirmed",
            "attended",
        ),
        (
            guests[1].pk,
            "",
            f"anonymised-{guests[1].pk}@anonymised.invalid",
            "",
            "Acme Bio ApS",
            "cancelled",
            "attended",
        ),
        (member.pk, "Mette Medlem", "mette@example.com", "CSO", "Acme Bio ApS", "confirmed", "attended"),
        (young.pk, "Yrsa Ung", "yrsa@example.com", "CSO", "Acme Bio ApS", "confirmed", "attended"),
    ]
    assert sorted(Answer.objects.values_list("registration_id", flat=True)) == [member.pk, young.pk]


def test_a_run_leaves_an_audit_entry_with_its_counts_and_a_second_run_finds_nothing(due, settings):
    settings.NEWSLETTER_UNCONFIRMED_RETENTION_DAYS = 30
    settings.OUTBOX_RETENTION_DAYS = 365
    first = retention_run_task()
    second = retention_run()
    expected_settings = {"guest_days": 365, "unconfirmed_days": 30, "mail_days": 365}
    assert first == {
        "answers": 2,
        "matchmaking_profiles": 0,
        "meeting_messages": 0,
        "meeting_feedback": 0,
        "guest_registrations": 2,
        "unconfirmed_subscribers": 0,
        "mail_bodies": 0,
    }
    assert set(second.values()) == {0}
    assert list(AuditEntry.objects.filter(action="retention.run").order_by("pk").values_list("data", flat=True)) == [
        {**first, "settings": expected_settings},
        {**second, "settings": expected_settings},
    ]
    assert Registration.objects.exclude(anonymised_at=None).count() == 2


def test_matchmaking_messages_go_and_meetings_keep_their_outcome(settings):
    settings.EVENTS_GUEST_RETENTION_DAYS = 365
    event = MatchmakingEventFactory()
    sender, recipient = matchmaking_profile(event=event), matchmaking_profile(event=event)
    request = MeetingRequest.objects.create(
        event=event, sender=sender, recipient=recipient, message="Call me on 12 34 56 78", expires_at=event.starts_at
    )
    Meeting.objects.create(event=event, request=request, first=sender, second=recipient, outcome="")
    ended = timezone.now() - timedelta(days=400)
    event.__class__.objects.filter(pk=event.pk).update(starts_at=ended - timedelta(hours=6), ends_at=ended)
    # A registration without a user account whose profile remains: the guest case matchmaking can reach.
    Registration.objects.filter(pk=sender.registration_id).update(user=None)
    counts = retention_run()
    sender.refresh_from_db()
    assert (counts["matchmaking_profiles"], counts["meeting_messages"]) == (1, 1)
    assert (sender.display_name, sender.offers, MeetingRequest.objects.get().message) == ("", "", "")
    assert list(Meeting.objects.values_list("first_id", "second_id")) == [(sender.pk, recipient.pk)]


def test_unconfirmed_sign_ups_are_purged_after_the_set_days(settings):
    settings.NEWSLETTER_UNCONFIRMED_RETENTION_DAYS = 30
    now = timezone.now()
    old = SubscriberFactory(email="old@example.com", status="pending", confirmed_at=None)
    asked_again = SubscriberFactory(email="again@example.com", status="pending", confirmed_at=None)
    young = SubscriberFactory(email="young@example.com", status="pending", confirmed_at=None)
    left_and_asked = SubscriberFactory(
        email="left@example.com", status="pending", confirmed_at=now - timedelta(days=90)
    )
    SubscriberFactory(email="reader@example.com")
    Subscriber.objects.filter(pk__in=[old.pk, asked_again.pk, left_and_asked.pk]).update(
        created_at=now - timedelta(days=31)
    )
    Subscriber.objects.filter(pk=young.pk).update(created_at=now - timedelta(days=29))
    ConsentRecord.objects.create(subscriber=old, action="opt_in", source="form", occurred_at=now - timedelta(days=31))
    ConsentRecord.objects.create(
        subscriber=asked_again, action="opt_in", source="form", occurred_at=now - timedelta(days=2)
    )
    assert retention_run()["unconfirmed_subscribers"] == 1
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "again@example.com",
        "left@example.com",
        "reader@example.com",
        "young@example.com",
    ]
    assert ConsentRecord.objects.filter(subscriber_id=old.pk).count() == 0


def _sent_mail(to: str, *, days_ago: int):
    message = mail_enqueue_rendered(
        template="t",
        to=to,
        language="da",
        subject="Hej",
        body_text="Kære Ida",
        body_html="<p>Kære Ida</p>",
        attachments=[{"filename": "a.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}],
        dedupe_key=f"test:{to}",
    )
    message.__class__.objects.filter(pk=message.pk).update(
        status="sent", sent_at=timezone.now() - timedelta(days=days_ago)
    )
    return message


def test_sent_mail_older_than_the_retention_loses_its_bodies_and_keeps_its_row(settings):
    settings.OUTBOX_RETENTION_DAYS = 365
    old, young = _sent_mail("old@example.com", days_ago=366), _sent_mail("young@example.com", days_ago=364)
    assert retention_run()["mail_bodies"] == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.status, old.dedupe_key, old.subject, old.body_text, old.body_html, old.attachments) == (
        "sent",
        "test:old@example.com",
        "Hej",
        "",
        "",
        [],
    )
    assert (young.body_text, len(young.attachments)) == ("Kære Ida", 1)


def test_one_beat_entry_runs_retention_nightly():
    from dlsc.celery import app

    app.loader.import_default_modules()
    schedule = CELERY_BEAT_SCHEDULE
    entries = [name for name, entry in schedule.items() if entry["task"] == "events.tasks.retention_run_task"]
    assert entries == ["retention-run"]
    assert "events.tasks.retention_run_task" in app.tasks
    assert "outbox.tasks.outbox_purge_task" not in [entry["task"] for entry in schedule.values()]


# --- What the next run will anonymise, for staff ------------------------------------------------------------------

RETENTION_PAGE = "/en/admin/events/registration/retention/"


def test_staff_see_what_the_next_run_will_anonymise(staff_client, due):
    guests, _, _ = due
    SubscriberFactory(email="stale@example.com", status="pending", confirmed_at=None)
    Subscriber.objects.filter(email="stale@example.com").update(created_at=timezone.now() - timedelta(days=31))
    response = staff_client.get(RETENTION_PAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["preview"]["guest_registration_count"] == 2
    assert [r.pk for r in response.context["preview"]["guest_registrations"]] == [guests[0].pk, guests[1].pk]
    assert "2 guest registrations from events that ended more than 365 days ago" in body
    assert "1 newsletter sign-up not confirmed for more than 30 days is deleted." in body
    assert "0 mails sent more than 365 days ago lose their text and attachments." in body
    assert "Gitte Gæst" in body and "Yrsa Ung" not in body and "stale@example.com" in body
    assert Registration.objects.filter(anonymised_at__isnull=False).count() == 0


def test_the_retention_page_speaks_danish(staff_client, due):
    body = staff_client.get(RETENTION_PAGE.replace("/en/", "/da/")).content.decode()
    assert "2 gæstetilmeldinger fra arrangementer, der sluttede for mere end 365 dage siden" in body


def test_the_admin_index_links_to_the_retention_page(staff_client):
    body = staff_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:events_registration_retention") in body


def test_hub_staff_may_not_see_the_retention_page(client, due):
    user = UserFactory(is_staff=True)
    staff_totp_activate(user)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="events"))
    event_hub("aarhus").staff.add(user)
    client.force_login(user)
    assert client.get(RETENTION_PAGE).status_code == 403


def test_the_retention_page_query_count_does_not_grow_with_its_rows(
    staff_client, settings, django_assert_max_num_queries
):
    settings.EVENTS_GUEST_RETENTION_DAYS = 365
    event = _event_ended(400)
    EventRegistrationFactory(event=event)
    with CaptureQueriesContext(connection) as one:
        staff_client.get(RETENTION_PAGE)
    for _ in range(2):
        EventRegistrationFactory(event=_event_ended(400))
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = staff_client.get(RETENTION_PAGE)
    assert response.context["preview"]["guest_registration_count"] == 3
