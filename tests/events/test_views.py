"""Public pages, the sign-up form and its bad input, registration links and the account section."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Answer, Registration
from outbox.models import OutboxMessage
from tests.factories import EventFactory, EventQuestionFactory, EventRegistrationFactory, UserFactory, event_hub
from tests.support.mail import rendered
from tests.support.sql import statements_run

pytestmark = pytest.mark.django_db
Status = Registration.Status


def guest(**extra):
    return {
        "full_name": "Gitte Gæst",
        "email": "gitte@example.com",
        "organisation_name": "Gæst ApS",
        "job_title": "CEO",
        "consent": "on",
        **extra,
    }


def register_url(event):
    return f"/da/events/{event.slug}/register/"


# --- lists ----------------------------------------------------------------------------------------------------------


def test_upcoming_list_shows_published_upcoming_events(client):
    EventFactory(title_da="Kommende")
    EventFactory(title_da="Kladde", status="draft")
    EventFactory(title_da="Forbi", starts_at=timezone.now() - timedelta(days=3))
    response = client.get(reverse("events:list"))
    assert [e.title for e in response.context["events"]] == ["Kommende"]


def test_past_list_shows_past_events(client):
    EventFactory(title_da="Kommende")
    EventFactory(title_da="Forbi", starts_at=timezone.now() - timedelta(days=3))
    response = client.get(reverse("events:past"))
    assert [e.title for e in response.context["events"]] == ["Forbi"]


def test_list_filters_by_hub_kind_and_month(client):
    start = timezone.now() + timedelta(days=40)
    EventFactory(title_da="Match", kind="matchmaking", hub=event_hub("aarhus"), starts_at=start)
    EventFactory(title_da="Webinar", kind="webinar", hub=event_hub("aarhus"), starts_at=start)
    EventFactory(title_da="Match København", kind="matchmaking", starts_at=start)
    month = timezone.localtime(start).strftime("%Y-%m")
    response = client.get(reverse("events:list"), {"hub": "aarhus", "kind": "matchmaking", "month": month})
    assert [e.title for e in response.context["events"]] == ["Match"]


def test_list_with_a_bad_filter_answers_400(client):
    response = client.get(reverse("events:list"), {"month": "not-a-month"})
    assert response.status_code == 400


@pytest.mark.parametrize("rows", [1, 5])
def test_list_query_count_does_not_grow_with_rows(client, django_assert_num_queries, rows):
    for _ in range(rows):
        EventFactory(capacity=10)
    event_hub("aarhus")
    with django_assert_num_queries(3):
        response = client.get(reverse("events:list"))
    assert len(response.context["events"]) == rows


def test_home_page_shows_upcoming_events(client):
    EventFactory(title_da="På forsiden")
    response = client.get("/da/")
    assert "På forsiden" in response.content.decode()


# --- detail -----------------------------------------------------------------------------------------------------------


def test_detail_has_json_ld_event_data(client):
    event = EventFactory(capacity=10, price_dkk=500)
    html = client.get(event.get_absolute_url()).content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Event"
    assert data["name"] == event.title
    assert data["offers"] == {
        "@type": "Offer",
        "price": "500",
        "priceCurrency": "DKK",
        "url": "http://127.0.0.1:8000" + event.get_absolute_url(),
        "availability": "https://schema.org/InStock",
    }


def test_detail_shows_seats_left(client):
    event = EventFactory(capacity=10)
    EventRegistrationFactory(event=event)
    response = client.get(reverse("events:detail", kwargs={"slug": event.slug}), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["seats_left"] == 9


def test_detail_of_a_full_event_offers_the_waitlist(client):
    event = EventFactory(capacity=1)
    EventRegistrationFactory(event=event)
    response = client.get(f"/en/events/{event.slug}/")
    assert "Sign up to join the waitlist" in response.content.decode()


def test_detail_hides_the_online_link_from_the_public(client):
    event = EventFactory(online_url="https://meet.example/room-42")
    assert "room-42" not in client.get(event.get_absolute_url()).content.decode()


def test_draft_detail_is_404_for_the_public(client):
    event = EventFactory(status="draft")
    assert client.get(event.get_absolute_url()).status_code == 404


def test_unknown_event_is_404(client):
    assert client.get(reverse("events:detail", kwargs={"slug": "nope"})).status_code == 404


# --- sign-up ----------------------------------------------------------------------------------------------------------


def test_guest_signs_up(client):
    event = EventFactory(capacity=5)
    response = client.post(register_url(event), guest())
    registration = Registration.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith("/da/events/registration/")
    assert (registration.email, registration.status, registration.language) == ("gitte@example.com", "confirmed", "da")
    assert OutboxMessage.objects.get().to == "gitte@example.com"


@pytest.mark.parametrize(
    ("language", "capacity", "told"),
    [
        ("da", 5, '<p class="message message-success">Du er tilmeldt. Vi har sendt en bekræftelse på e-mail.</p>'),
        ("en", 5, '<p class="message message-success">You are registered. We have sent a confirmation by email.</p>'),
        (
            "da",
            1,
            '<p class="message message-info">Arrangementet er fuldt: du er nummer 2 på ventelisten. '
            "Vi skriver til dig, hvis en plads bliver ledig.</p>",
        ),
        (
            "en",
            1,
            '<p class="message message-info">The event is full: you are number 2 on the waitlist. '
            "We write to you if a seat frees up.</p>",
        ),
    ],
)
def test_the_registration_page_a_sign_up_leads_to_tells_its_outcome_once_without_a_cookie(
    client, language, capacity, told
):
    """The sign-up redirects to its registration's page marked as just made (`?new=1`), which tells the outcome; the
    answer sets no message cookie, and the page opened from the mail's link (unmarked) does not tell it again."""
    event = EventFactory(capacity=capacity)
    EventRegistrationFactory(event=event, status=Status.CONFIRMED)
    EventRegistrationFactory(event=event, status=Status.WAITLISTED, confirmed_at=None, waitlisted_at=timezone.now())
    response = client.post(f"/{language}/events/{event.slug}/register/", guest())
    registration = Registration.objects.get(email="gitte@example.com")
    page = f"/{language}/events/registration/{services.registration_token(registration)}/"
    assert (response.status_code, response["Location"]) == (302, f"{page}?new=1")
    assert "messages" not in response.cookies
    shown = client.get(response["Location"])
    assert shown.content.decode().count(told) == 1
    assert "messages" not in shown.cookies
    assert 'class="messages"' not in client.get(page).content.decode()


def test_a_registration_cancelled_since_its_sign_up_is_not_told_as_made(client):
    registration = services.registration_create(event=EventFactory(), full_name="A", email="a@x.dk", language="en")
    services.registration_cancel(registration=registration)
    token = services.registration_token(registration)
    html = client.get(f"/en/events/registration/{token}/?new=1").content.decode()
    assert 'class="messages"' not in html
    assert "You are registered" not in html


def test_a_registration_link_is_the_same_as_when_it_was_signed_with_compression(client):
    """Links were signed with compression, which is kept only when it shortens the token and never did for an id:
    the links already mailed are the very ones made now."""
    from django.core import signing

    registration = services.registration_create(event=EventFactory(), full_name="A", email="a@x.dk", language="en")
    old = signing.dumps({"r": registration.pk}, salt=services.LINK_SIGNING_SALT, compress=True)
    assert services.registration_token(registration) == old
    assert client.get(f"/en/events/registration/{old}/").context["registration"].pk == registration.pk


def test_guest_newsletter_opt_in_is_stored_with_the_time(client):
    event = EventFactory()
    client.post(register_url(event), guest(newsletter_opt_in="on"))
    registration = Registration.objects.get()
    assert registration.newsletter_opt_in is True
    assert registration.newsletter_opt_in_at is not None


def test_guest_newsletter_opt_in_asks_for_confirmation_and_records_consent(client):
    from newsletters.models import ConsentRecord, Subscriber

    event = EventFactory()
    client.post(register_url(event), guest(newsletter_opt_in="on"))
    subscriber = Subscriber.objects.get()
    consent = ConsentRecord.objects.get(subscriber=subscriber)
    assert (subscriber.email, subscriber.status, subscriber.language) == ("gitte@example.com", "pending", "da")
    assert (consent.source, consent.ip_address) == ("event", "127.0.0.1")
    assert sorted(OutboxMessage.objects.values_list("template", flat=True)) == [
        "events/email/registration_confirmed",
        "newsletters/email/confirm",
    ]


def test_guest_without_newsletter_opt_in_is_not_subscribed(client):
    from newsletters.models import Subscriber

    client.post(register_url(EventFactory()), guest())
    assert Subscriber.objects.count() == 0


def test_member_signs_up_in_one_click(client, member_user):
    event = EventFactory(audience="members")
    client.force_login(member_user)
    response = client.post(register_url(event), {})
    registration = Registration.objects.get()
    assert response.status_code == 302
    assert (registration.user, registration.full_name, registration.is_member) == (member_user, "Mette Medlem", True)
    assert registration.organisation_name == "Medlem ApS"


def test_non_member_user_cannot_sign_up_for_members_only(client):
    event = EventFactory(audience="members")
    client.force_login(UserFactory())
    response = client.post(register_url(event), {})
    assert response.status_code == 403
    assert Registration.objects.count() == 0


def test_signing_up_twice_gives_a_friendly_400(client):
    event = EventFactory()
    client.post(register_url(event), guest())
    response = client.post(register_url(event), guest(email="GITTE@example.com"))
    assert response.status_code == 400
    assert "allerede tilmeldt arrangementet" in response.content.decode()
    assert Registration.objects.count() == 1


def test_closed_registration_answers_400(client):
    event = EventFactory(registration_closes_at=timezone.now() - timedelta(hours=1))
    response = client.post(register_url(event), guest())
    assert response.status_code == 400
    assert "Tilmeldingen til dette arrangement er lukket." in response.content.decode()
    assert response.context["form"] is None
    assert Registration.objects.count() == 0


def test_past_event_answers_400(client):
    event = EventFactory(starts_at=timezone.now() - timedelta(days=2))
    assert client.post(register_url(event), guest()).status_code == 400
    assert Registration.objects.count() == 0


def test_invalid_email_answers_400(client):
    event = EventFactory()
    response = client.post(register_url(event), guest(email="not-an-email"))
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert Registration.objects.count() == 0


def test_missing_consent_answers_400(client):
    event = EventFactory()
    data = guest()
    del data["consent"]
    assert client.post(register_url(event), data).status_code == 400
    assert Registration.objects.count() == 0


def test_missing_required_answer_answers_400_and_saves_nothing(client):
    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="text", required=True)
    response = client.post(register_url(event), guest())
    assert response.status_code == 400
    assert f"question_{question.pk}" in response.context["form"].errors
    assert (Registration.objects.count(), Answer.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0)


def test_answers_are_saved_from_the_form(client):
    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="yes_no", required=True)
    client.post(register_url(event), guest(**{f"question_{question.pk}": "no"}))
    assert Answer.objects.get().yes_no is False


def test_a_sign_up_reads_the_questions_once_and_checks_the_answers_against_them(client):
    """The form's questions (with their options) are the ones the service checks the answers against."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EventQuestionOptionFactory

    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="single", required=True)
    option = EventQuestionOptionFactory(question=question)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(register_url(event), guest(**{f"question_{question.pk}": str(option.pk)}))
    question_reads = [sql for sql in statements_run(queries) if sql.startswith('SELECT "events_question"."id"')]
    assert (response.status_code, len(question_reads)) == (302, 1)
    assert Answer.objects.get().options.get() == option


def test_a_sign_up_for_an_event_without_questions_reads_none(client):
    """Whether the event asks anything is read with the event itself: without questions, none are read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    event = EventFactory()
    EventQuestionFactory(event=EventFactory(), kind="text")  # another event's question
    with CaptureQueriesContext(connection) as queries:
        response = client.post(register_url(event), guest())
    question_reads = [sql for sql in statements_run(queries) if sql.startswith('SELECT "events_question"."id"')]
    assert (response.status_code, question_reads) == (302, [])
    assert Registration.objects.get().event == event


def test_oversized_fields_answer_400(client):
    event = EventFactory()
    response = client.post(register_url(event), guest(full_name="x" * 5000))
    assert response.status_code == 400
    assert Registration.objects.count() == 0


def test_honeypot_answers_400(client):
    event = EventFactory()
    assert client.post(register_url(event), guest(website="http://spam.example")).status_code == 400
    assert Registration.objects.count() == 0


def test_too_many_signups_from_one_address_answer_429(client, settings):
    settings.EVENTS_SIGNUP_RATE_PER_MINUTE = 2
    event = EventFactory()
    codes = [client.post(register_url(event), guest(email=f"g{n}@example.com")).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    assert Registration.objects.count() == 2


def test_get_on_the_register_url_is_405(client):
    assert client.get(register_url(EventFactory())).status_code == 405


# --- registration page and cancel -------------------------------------------------------------------------------------


def test_registration_page_shows_waitlist_position(client):
    event = EventFactory(capacity=1)
    services.registration_create(event=event, full_name="A", email="a@example.com", language="en")
    waiting = services.registration_create(event=event, full_name="B", email="b@example.com", language="en")
    url = reverse("events:registration", kwargs={"token": services.registration_token(waiting)})
    response = client.get(url)
    assert response.context["position"] == 1


def test_cancel_through_the_signed_link(client):
    event = EventFactory(capacity=1)
    first = services.registration_create(event=event, full_name="A", email="a@example.com", language="en")
    second = services.registration_create(event=event, full_name="B", email="b@example.com", language="en")
    token = services.registration_token(first)
    response = client.post(reverse("events:registration_cancel", kwargs={"token": token}))
    first.refresh_from_db()
    second.refresh_from_db()
    assert response.status_code == 302
    assert (first.status, second.status) == (Status.CANCELLED, Status.CONFIRMED)


def test_get_on_the_cancel_url_asks_for_confirmation_and_changes_nothing(client):
    event = EventFactory(title_da="Sundhedsdata i praksis")
    registration = services.registration_create(event=event, full_name="A", email="a@x.dk", language="en")
    url = reverse("events:registration_cancel", kwargs={"token": services.registration_token(registration)})
    response = client.get(url)
    html = response.content.decode()
    registration.refresh_from_db()
    assert (response.status_code, registration.status) == (200, Status.CONFIRMED)
    assert "Vil du afmelde dig Sundhedsdata i praksis?" in html
    assert f'<form method="post" action="{url}">' in html


def test_the_registration_page_leads_to_the_confirmation_not_straight_to_cancelling(client):
    registration = services.registration_create(event=EventFactory(), full_name="A", email="a@x.dk", language="en")
    token = services.registration_token(registration)
    html = client.get(reverse("events:registration", kwargs={"token": token})).content.decode()
    cancel = reverse("events:registration_cancel", kwargs={"token": token})
    assert (f'<a class="button button-danger" href="{cancel}">' in html, f'action="{cancel}"' in html) == (True, False)


@pytest.mark.parametrize(
    ("status", "badge"),
    [
        (Status.CONFIRMED, '<span class="badge badge-success">Bekræftet</span>'),
        (Status.WAITLISTED, '<span class="badge badge-warning">På venteliste</span>'),
        (Status.CANCELLED, '<span class="badge badge-muted">Afmeldt</span>'),
    ],
)
def test_each_registration_status_has_its_own_badge_colour(client, status, badge):
    event = EventFactory(capacity=1)
    services.registration_create(event=event, full_name="A", email="a@x.dk", language="da")
    registration = services.registration_create(event=event, full_name="B", email="b@x.dk", language="da")
    if status == Status.CONFIRMED:
        registration = Registration.objects.get(email="a@x.dk")
    elif status == Status.CANCELLED:
        services.registration_cancel(registration=registration, actor=None, reason="self-service")
    token = services.registration_token(registration)
    assert badge in client.get(reverse("events:registration", kwargs={"token": token})).content.decode()


def test_a_failed_sign_up_lands_on_an_error_summary_at_the_top_of_the_form(client):
    event = EventFactory()
    response = client.post(register_url(event), guest(email="not-an-email"))
    html = response.content.decode()
    summary = html.index('id="signup-errors"')
    assert response.status_code == 400
    assert f'action="{register_url(event)}#signup-errors"' in html
    assert summary < html.index('name="full_name"')
    assert '<a href="#id_email">' in html[summary : html.index('name="full_name"')]


def test_a_duplicate_sign_up_shows_its_error_in_the_summary(client):
    event = EventFactory()
    client.post(register_url(event), guest())
    html = client.post(register_url(event), guest()).content.decode()
    summary = html[html.index('id="signup-errors"') : html.index('name="full_name"')]
    assert "er allerede tilmeldt" in summary


@pytest.mark.parametrize("token", ["garbage", "eyJyIjoxfQ:1abc:tampered", "a" * 300])
def test_tampered_tokens_answer_400_with_a_message(client, token):
    response = client.get(f"/en/events/registration/{token}/")
    assert response.status_code == 400
    assert "This registration link is not valid" in response.content.decode()


def test_tampered_token_cannot_cancel(client):
    registration = services.registration_create(event=EventFactory(), full_name="A", email="a@x.dk", language="en")
    token = services.registration_token(registration)
    response = client.post(f"/en/events/registration/{token}x/cancel/")
    registration.refresh_from_db()
    assert (response.status_code, registration.status) == (400, Status.CONFIRMED)


def test_the_confirmation_link_opens_the_registration(client):
    event = EventFactory()
    client.post(register_url(event), guest())
    body = rendered(OutboxMessage.objects.get()).body_text
    link = re.search(r"http://127\.0\.0\.1:8000(/da/events/registration/\S+/)", body).group(1)
    assert client.get(link).context["registration"].email == "gitte@example.com"


# --- my account ---------------------------------------------------------------------------------------------------


def test_account_page_lists_my_registrations_with_cancel_links(client, member_user):
    event = EventFactory(title_da="Mit arrangement")
    registration = services.registration_create(
        event=event, full_name="M", email=member_user.email, language="da", user=member_user, is_member=True
    )
    client.force_login(member_user)
    html = client.get("/da/account/").content.decode()
    assert "Mit arrangement" in html
    # The signed token carries the second it was signed in; its payload names the registration.
    payload = services.registration_token(registration).split(":")[0]
    assert f"/da/events/registration/{payload}:" in html


def test_account_page_does_not_list_other_peoples_registrations(client, member_user):
    services.registration_create(event=EventFactory(title_da="Andres"), full_name="X", email="x@x.dk", language="da")
    client.force_login(member_user)
    assert "Andres" not in client.get("/da/account/").content.decode()


def test_account_section_query_count_does_not_grow_with_rows(client, member_user):
    """The account page holds other apps' sections too, so the figure that matters is that one registration and
    four cost the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(member_user)
    counts = []
    for rows in (1, 4):
        while Registration.objects.filter(user=member_user).count() < rows:
            services.registration_create(
                event=EventFactory(), full_name="M", email=member_user.email, language="da", user=member_user
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/da/account/")
        assert response.content.decode().count("Se eller afmeld") == rows
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("rows", [1, 4])
def test_checkin_page_query_count_does_not_grow_with_rows(client, django_assert_num_queries, rows):
    from tests.factories import StaffFactory, staff_totp_activate

    event = EventFactory()
    for _ in range(rows):
        EventRegistrationFactory(event=event)
    staff = StaffFactory()
    staff_totp_activate(staff)
    client.force_login(staff)
    # the staff user's second factor is one more query than before the MFA check; the session comes from the cache
    with django_assert_num_queries(6):
        response = client.get(f"/da/events/{event.slug}/check-in/")
    assert len(response.context["registrations"]) == rows


def test_checkin_page_sends_staff_without_a_second_factor_to_set_one_up(client):
    from tests.factories import StaffFactory

    event = EventFactory()
    client.force_login(StaffFactory())
    response = client.get(f"/da/events/{event.slug}/check-in/")
    assert response.status_code == 302
    assert response["Location"] == "/da/accounts/2fa/totp/activate/"


def test_filtering_by_hub_offers_that_hubs_calendar(client):
    event_hub("aarhus")
    html = client.get("/da/events/", {"hub": "aarhus"}).content.decode()
    assert 'href="webcal://127.0.0.1:8000/da/events/hub/aarhus/calendar.ics"' in html


def test_an_event_card_shows_the_kinds_illustration_venue_and_hub_when_no_image_is_uploaded(client):
    from django.templatetags.static import static

    EventFactory(kind="workshop", venue_name_da="Symbion", hub=event_hub("aarhus"))
    html = client.get("/da/events/").content.decode()
    card = html[html.index('class="card event-card"') :]
    assert f'src="{static("img/events/workshop.svg")}"' in card
    assert "Symbion" in card
    assert event_hub("aarhus").name in card


def test_every_event_kind_has_an_illustration():
    from django.contrib.staticfiles import finders

    from events.models import Event

    assert [kind for kind in Event.Kind.values if not finders.find(f"img/events/{kind}.svg")] == []
