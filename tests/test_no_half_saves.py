"""A public form that fails, early or late, leaves every table exactly as it was: no half-saved rows anywhere. The views
that accept POST are found in the URL resolver, so a new one without a case here fails the test."""

import inspect

import pytest
from django.apps import apps
from django.urls import URLResolver, get_resolver, reverse
from django.utils import translation

from events.matchmaking import services as matchmaking_services
from members.services import invitation_create, invitation_token
from newsletters.consent import CONSENT_TEXT_VERSION
from tests.factories import (
    PASSWORD,
    EventFactory,
    EventQuestionFactory,
    EventQuestionOptionFactory,
    EventRegistrationFactory,
    MatchmakingEventFactory,
    OrganisationRoleFactory,
    SubscriberFactory,
    TopicFactory,
    UserFactory,
    cvr_valid,
    matchmaking_profile,
    member_organisation_create,
)
from tests.members.test_views import apply_form

pytestmark = pytest.mark.django_db


# Sessions change when a page stores a message for the next one; that is not a saved form.
NOT_CONTENT = {"sessions.Session"}


def row_counts() -> dict:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def table_contents() -> dict:
    """Every row of every table, field by field: an update that half-happened shows here, not only a new row."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.label not in NOT_CONTENT
    }


def assert_refused_without_saving(client, url, data, status=400):
    before = table_contents()
    response = client.post(url, data)
    assert response.status_code == status
    after = table_contents()
    assert {label: rows for label, rows in after.items() if rows != before[label]} == {}


PROJECT_APPS = ("accounts", "members", "events", "hubs", "newsletters", "dlsc")
COVERED = set()


def covers(route_name):
    """Marks a test as the no-half-save case of a view that accepts POST."""

    def mark(test):
        COVERED.add(route_name)
        return test

    return mark


def _walk(resolver, namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
        else:
            yield f"{namespace}{entry.name}", entry.callback


def views_accepting_post() -> set[str]:
    """The project's own views (the admin's aside) whose code or decorators handle POST."""
    found = set()
    for name, callback in _walk(get_resolver()):
        view = inspect.unwrap(getattr(callback, "view_class", callback))
        if not (inspect.isfunction(view) or inspect.isclass(view)):
            view = type(view)  # a callable instance, such as a syndication Feed
        module = getattr(view, "__module__", "")
        if module.split(".")[0] not in PROJECT_APPS or module.endswith(".admin"):
            continue
        if "POST" in inspect.getsource(view):
            found.add(name)
    return found


def test_every_view_that_accepts_post_has_a_no_half_save_case():
    assert sorted(views_accepting_post() - COVERED) == []


def da(name, *args):
    with translation.override("da"):
        return reverse(name, args=args)


# --- membership application ------------------------------------------------------------------------------------


@covers("members:apply")
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


@covers("events:register")
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


@covers("newsletters:subscribe")
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


@covers("members:invitation")
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


@covers("matchmaking:profile")
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


@covers("matchmaking:profile_edit")
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


@covers("accounts:profile")
def test_a_profile_with_an_unknown_language_saves_nothing(client):
    user = UserFactory(full_name="Anna")
    client.force_login(user)
    assert_refused_without_saving(client, da("accounts:profile"), {"full_name": "Bent", "preferred_language": "xx"})
    user.refresh_from_db()
    assert user.full_name == "Anna"


# --- every other view that accepts POST ------------------------------------------------------------------------------


@pytest.fixture
def company():
    """An organisation with its admin and a colleague, and another company with its own admin."""
    own = member_organisation_create()
    admin = OrganisationRoleFactory(organisation=own, role="admin").user
    colleague = OrganisationRoleFactory(organisation=own, role="member").user
    foreign = member_organisation_create()
    stranger = OrganisationRoleFactory(organisation=foreign, role="admin").user
    return {"own": own, "admin": admin, "colleague": colleague, "foreign": foreign, "stranger": stranger}


@covers("members:edit")
def test_an_organisation_profile_with_a_bad_website_saves_nothing(client, company):
    client.force_login(company["admin"])
    data = {"name": "Changed name", "website": "not a url", "description_da": "Ny", "description_en": "New"}
    assert_refused_without_saving(client, da("members:edit", company["own"].pk), data)


@covers("members:invite")
def test_an_invitation_to_a_malformed_email_saves_nothing(client, company):
    client.force_login(company["admin"])
    assert_refused_without_saving(client, da("members:invite", company["own"].pk), {"email": "nope", "role": "member"})


@covers("members:invitation_revoke")
def test_revoking_another_companys_invitation_saves_nothing(client, company):
    foreign = invitation_create(
        organisation=company["foreign"], email="x@example.com", role="member", invited_by=company["stranger"]
    )
    client.force_login(company["admin"])
    url = da("members:invitation_revoke", company["own"].pk, foreign.pk)
    assert_refused_without_saving(client, url, {}, status=404)


@covers("members:colleague_remove")
def test_removing_someone_from_another_company_saves_nothing(client, company):
    client.force_login(company["admin"])
    url = da("members:colleague_remove", company["own"].pk, company["stranger"].pk)
    assert_refused_without_saving(client, url, {}, status=404)


@covers("members:colleague_role")
def test_an_unknown_colleague_role_saves_nothing(client, company):
    client.force_login(company["admin"])
    url = da("members:colleague_role", company["own"].pk, company["colleague"].pk)
    assert_refused_without_saving(client, url, {"role": "owner", "grant": "on"})


@covers("members:hand_on")
def test_handing_the_company_to_a_stranger_saves_nothing(client, company):
    client.force_login(company["admin"])
    url = da("members:hand_on", company["own"].pk, company["stranger"].pk)
    assert_refused_without_saving(client, url, {}, status=404)


@covers("accounts:delete")
def test_account_deletion_with_the_wrong_password_saves_nothing(client):
    user = UserFactory()
    client.force_login(user)
    assert_refused_without_saving(client, da("accounts:delete"), {"password": "not-the-password"})


@covers("events:registration_cancel")
def test_cancelling_with_a_forged_registration_link_saves_nothing(client):
    assert_refused_without_saving(client, da("events:registration_cancel", "forged-token"), {}, status=400)


@covers("events:checkin")
def test_checking_in_a_registration_of_another_event_saves_nothing(staff_client):
    event = EventFactory()
    other = EventRegistrationFactory()
    url = da("events:checkin", event.slug)
    assert_refused_without_saving(staff_client, url, {"registration": str(other.pk)}, status=404)


@covers("matchmaking:join")
def test_joining_matchmaking_without_a_registration_saves_nothing(client, participants):
    me, _ = participants
    client.force_login(UserFactory())
    assert_refused_without_saving(client, da("matchmaking:join", me.event.slug), {}, status=404)


@covers("matchmaking:request_answer")
def test_an_unknown_answer_to_a_meeting_request_saves_nothing(client, participants):
    me, other = participants
    request = matchmaking_services.request_send(sender=other, recipient=me, message="Let us talk about validation.")
    client.force_login(me.user)
    url = da("matchmaking:request_answer", me.event.slug, request.pk, "maybe")
    assert_refused_without_saving(client, url, {}, status=404)


@covers("matchmaking:feedback")
def test_feedback_on_someone_elses_meeting_saves_nothing(client, participants):
    me, other = participants
    outsider = matchmaking_profile(event=me.event)
    request = matchmaking_services.request_send(sender=me, recipient=other, message="Let us talk about validation.")
    matchmaking_services.request_accept(request=request, by=other.user)
    request.refresh_from_db()
    client.force_login(outsider.user)
    url = da("matchmaking:feedback", me.event.slug, request.meeting.pk)
    assert_refused_without_saving(client, url, {"happened": "yes", "result": "", "comment": "Good"}, status=404)


@covers("newsletters:confirm")
def test_confirming_with_a_forged_link_saves_nothing(client):
    assert_refused_without_saving(client, da("newsletters:confirm", "forged-token"), {})


@covers("newsletters:unsubscribe")
def test_unsubscribing_with_a_forged_link_saves_nothing(client):
    assert_refused_without_saving(client, da("newsletters:unsubscribe", "forged-token"), {})


@covers("newsletters:preferences")
def test_preferences_with_an_unknown_topic_saves_nothing(client):
    from newsletters.subscriptions import PREFERENCES_SALT, subscriber_token

    topic = TopicFactory()
    subscriber = SubscriberFactory(topics=[topic])
    url = da("newsletters:preferences", subscriber_token(subscriber=subscriber, salt=PREFERENCES_SALT))
    assert_refused_without_saving(client, url, {"language": "en", "topics": [topic.pk, topic.pk + 1000]})


@covers("newsletters:account_topics")
def test_account_topics_with_an_unknown_topic_saves_nothing(client):
    topic = TopicFactory()
    client.force_login(UserFactory())
    assert_refused_without_saving(client, da("newsletters:account_topics"), {"topics": [topic.pk, topic.pk + 1000]})


@covers("members:billing")
def test_billing_details_with_a_bad_ean_save_nothing(client, company):
    client.force_login(company["admin"])
    data = {
        "cvr": company["own"].cvr,
        "billing_contact_name": "Bogholderiet",
        "billing_email": "faktura@example.com",
        "ean": "5798000000002",  # a wrong check digit
        "po_number": "PO-1",
        "buyer_reference": "Ref 1",
        "vat_number": "",
    }
    assert_refused_without_saving(client, da("members:billing", company["own"].pk), data)


@covers("members:membership_next")
def test_a_next_period_with_an_unknown_size_saves_nothing(client, company):
    client.force_login(company["admin"])
    membership = company["own"].memberships.get()
    data = {"membership_type": membership.membership_type_id, "size_band": "1000000+"}
    assert_refused_without_saving(client, da("members:membership_next", company["own"].pk), data)


@covers("members:membership_cancel")
def test_a_cancellation_after_the_notice_saves_nothing(client, company):
    from datetime import timedelta

    from django.utils import timezone

    membership = company["own"].memberships.get()
    # The period ends in ten days: the notice (60 days for the company type) has passed.
    type(membership).objects.filter(pk=membership.pk).update(period_end=timezone.localdate() + timedelta(days=10))
    client.force_login(company["admin"])
    assert_refused_without_saving(client, da("members:membership_cancel", company["own"].pk), {}, status=409)
