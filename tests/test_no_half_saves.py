"""A public form that fails, early or late, leaves every table exactly as it was: no half-saved rows anywhere."""

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from events.matchmaking import services as matchmaking_services
from members.services import invitation_create, invitation_token
from newsletters.consent import CONSENT_TEXT_VERSION
from tests.factories import (
    PASSWORD,
    EventFactory,
    EventQuestionFactory,
    EventQuestionOptionFactory,
    MatchmakingEventFactory,
    OrganisationRoleFactory,
    TopicFactory,
    UserFactory,
    cvr_valid,
    matchmaking_profile,
    member_organisation_create,
)
from tests.members.test_views import apply_form

pytestmark = pytest.mark.django_db


def row_counts() -> dict:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def assert_refused_without_saving(client, url, data, status=400):
    before = row_counts()
    response = client.post(url, data)
    assert (response.status_code, row_counts()) == (status, before)


def da(name, *args):
    with translation.override("da"):
        return reverse(name, args=args)


# --- membership application ------------------------------------------------------------------------------------


def test_application_with_mismatched_passwords_saves_nothing(client):
    assert_refused_without_saving(client, da("members:apply"), apply_form(password2="Something-else-2026"))


def test_application_for_a_cvr_already_pending_saves_nothing(client):
    client.post(da("members:apply"), apply_form(cvr=cvr_valid(5)))
    other = apply_form(cvr=cvr_valid(5), contact_email="another@havbrise.example")
    assert_refused_without_saving(client, da("members:apply"), other)


def test_application_whose_email_is_taken_and_whose_terms_are_missing_saves_nothing(client):
    UserFactory(email="hanne@havbrise.example")
    data = apply_form()
    del data["accept_terms"]
    assert_refused_without_saving(client, da("members:apply"), data)


def test_application_whose_email_is_taken_makes_no_second_account(client):
    existing = UserFactory(email="hanne@havbrise.example")
    before = row_counts()
    response = client.post(da("members:apply"), apply_form(contact_email="HANNE@havbrise.example"))
    after = row_counts()
    assert (response.status_code, after["accounts.User"], existing.check_password(PASSWORD)) == (
        302,
        before["accounts.User"],
        True,
    )


# --- event sign-up with custom questions ---------------------------------------------------------------------------


def guest():
    return {"full_name": "Gitte Gæst", "email": "gitte@example.com", "organisation_name": "Gæst ApS", "consent": "on"}


def test_signup_whose_required_answer_is_missing_saves_nothing(client):
    event = EventFactory()
    EventQuestionFactory(event=event, kind="text", required=True)
    assert_refused_without_saving(client, da("events:register", event.slug), guest())


def test_signup_whose_choice_is_not_an_option_saves_nothing(client):
    event = EventFactory()
    option = EventQuestionOptionFactory(question__event=event, question__kind="single", question__required=True)
    foreign = EventQuestionOptionFactory()
    data = {**guest(), f"question_{option.question_id}": str(foreign.pk)}
    assert_refused_without_saving(client, da("events:register", event.slug), data)


def test_signup_with_an_oversized_answer_saves_nothing(client):
    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="text", required=False)
    data = {**guest(), f"question_{question.pk}": "x" * 10_000}
    assert_refused_without_saving(client, da("events:register", event.slug), data)


def test_second_signup_with_the_same_email_saves_nothing(client):
    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="text", required=True)
    data = {**guest(), f"question_{question.pk}": "Svar"}
    client.post(da("events:register", event.slug), data)
    assert_refused_without_saving(client, da("events:register", event.slug), {**data, "email": "GITTE@example.com"})


# --- newsletter ------------------------------------------------------------------------------------------------------


def test_subscription_to_an_unknown_topic_saves_nothing(client):
    topic = TopicFactory()
    data = {
        "email": "reader@example.com",
        "language": "da",
        "topics": [topic.pk, topic.pk + 1000],
        "consent": "on",
        "consent_text_version": CONSENT_TEXT_VERSION,
    }
    assert_refused_without_saving(client, da("newsletters:subscribe"), data)


def test_subscription_without_consent_saves_nothing(client):
    topic = TopicFactory()
    data = {
        "email": "reader@example.com",
        "language": "da",
        "topics": [topic.pk],
        "consent_text_version": CONSENT_TEXT_VERSION,
    }
    assert_refused_without_saving(client, da("newsletters:subscribe"), data)


# --- invitations ---------------------------------------------------------------------------------------------------


@pytest.fixture
def invitation():
    organisation = member_organisation_create()
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    return invitation_create(organisation=organisation, email="ny@example.com", role="member", invited_by=admin)


def test_invitation_signup_with_mismatched_passwords_saves_nothing(client, invitation):
    data = {"full_name": "Ny Person", "password1": PASSWORD, "password2": PASSWORD + "x"}
    assert_refused_without_saving(client, da("members:invitation", invitation_token(invitation)), data)


def test_invitation_accepted_by_someone_else_saves_nothing(client, invitation):
    client.force_login(UserFactory(email="not-the-invitee@example.com"))
    assert_refused_without_saving(client, da("members:invitation", invitation_token(invitation)), {})


# --- matchmaking ---------------------------------------------------------------------------------------------------


@pytest.fixture
def participants():
    event = MatchmakingEventFactory()
    return matchmaking_profile(event=event), matchmaking_profile(event=event)


def test_a_too_short_meeting_request_saves_nothing(client, participants):
    me, other = participants
    client.force_login(me.user)
    url = da("matchmaking:profile", me.event.slug, other.pk)
    assert_refused_without_saving(client, url, {"message": "Hi"})


def test_a_second_meeting_request_to_the_same_person_saves_nothing(client, participants):
    me, other = participants
    matchmaking_services.request_send(sender=me, recipient=other, message="Let us talk about validation.")
    client.force_login(me.user)
    url = da("matchmaking:profile", me.event.slug, other.pk)
    assert_refused_without_saving(client, url, {"message": "Let us talk about it once more, please."})


def test_a_profile_whose_unavailable_slot_belongs_to_another_event_saves_nothing(client, participants):
    me, _ = participants
    other_event = MatchmakingEventFactory()
    matchmaking_services.session_create(
        event=other_event, starts_at=other_event.starts_at, slot_minutes=30, slot_count=1
    )
    client.force_login(me.user)
    data = {
        "profile-display_name": "Changed name",
        "profile-organisation_name": "Medico",
        "profile-kind": "hospital",
        "profile-offers_da": "Klinisk afprøvning",
        "profile-offers_en": "Clinical trials",
        "profile-languages": ["da", "en"],
        "availability-unavailable": [other_event.meeting_slots.get().pk],
    }
    assert_refused_without_saving(client, da("matchmaking:profile_edit", me.event.slug), data)
    me.refresh_from_db()
    assert (me.display_name, me.kind) != ("Changed name", "hospital")


# --- account profile -----------------------------------------------------------------------------------------------


def test_a_profile_with_an_unknown_language_saves_nothing(client):
    user = UserFactory(full_name="Anna")
    client.force_login(user)
    assert_refused_without_saving(client, da("accounts:profile"), {"full_name": "Bent", "preferred_language": "xx"})
    user.refresh_from_db()
    assert user.full_name == "Anna"
