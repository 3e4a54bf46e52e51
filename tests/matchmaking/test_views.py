"""Participant pages: outsiders get 404 everywhere, participants browse, ask, answer and see their agenda."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from events.matchmaking import services
from events.models import Meeting, MeetingRequest, Slot
from members.models import Tag
from tests.factories import (
    MatchmakingEventFactory,
    MatchmakingRegistrationFactory,
    StaffFactory,
    UserFactory,
    matchmaking_profile,
    staff_totp_activate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return MatchmakingEventFactory()


@pytest.fixture
def me(event, client):
    profile = matchmaking_profile(event=event)
    client.force_login(profile.user)
    return profile


def url(name, event, *args):
    # Danish pages whatever language an earlier test left active in this thread.
    with translation.override("da"):
        return reverse(f"matchmaking:{name}", args=[event.slug, *args])


def admin_login(client):
    staff = StaffFactory()
    # The admin asks staff for a second factor first; a TOTP authenticator on record satisfies it.
    staff_totp_activate(staff)
    client.force_login(staff)


def placed_meeting(event, a, b):
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=2)
    request = services.request_send(sender=a, recipient=b, message="Let us talk about validation.")
    services.request_accept(request=request, by=b.user)
    services.schedule_run(event=event, by=StaffFactory())
    return Meeting.objects.get(request=request)


@pytest.mark.parametrize("name", ["catalogue", "suggestions", "requests", "agenda", "agenda_ics", "profile_edit"])
def test_a_logged_in_non_participant_gets_404(client, event, name):
    client.force_login(UserFactory())
    assert client.get(url(name, event)).status_code == 404


def test_a_participant_of_another_event_gets_404_on_this_catalogue(client, event):
    other = matchmaking_profile(event=MatchmakingEventFactory())
    client.force_login(other.user)
    assert client.get(url("catalogue", event)).status_code == 404


def test_a_profile_from_another_event_answers_404(client, event, me):
    stranger = matchmaking_profile(event=MatchmakingEventFactory())
    assert client.get(url("profile", event, stranger.pk)).status_code == 404


def test_a_meeting_of_others_answers_404_on_feedback(client, event, me):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = placed_meeting(event, a, b)
    assert client.get(url("feedback", event, meeting.pk)).status_code == 404


def test_answering_a_request_sent_to_someone_else_answers_404(client, event, me):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    request = services.request_send(sender=a, recipient=b, message="Let us talk about validation.")
    assert client.post(url("request_answer", event, request.pk, "accept")).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, event):
    assert client.get(url("catalogue", event)).status_code == 302


def test_a_confirmed_participant_without_a_profile_is_invited_to_join(client, event):
    registration = MatchmakingRegistrationFactory(event=event)
    client.force_login(registration.user)
    assert client.get(url("catalogue", event)).url == url("join", event)


def test_catalogue_filters_by_tag(client, event, me):
    tag = Tag.objects.create(slug="imaging", name="Imaging")
    match, other = matchmaking_profile(event=event), matchmaking_profile(event=event)
    match.offer_tags.add(tag)
    response = client.get(url("catalogue", event), {"tag": tag.pk})
    assert [p.pk for p in response.context["profiles"]] == [match.pk]
    assert other.pk != match.pk


def test_catalogue_answers_a_bad_filter_with_400(client, event, me):
    assert client.get(url("catalogue", event), {"tag": "999999"}).status_code == 400


def test_catalogue_query_count_does_not_grow_with_participants(client, event, me, django_assert_num_queries):
    # the session comes from the cache (cached_db), so every count below has no session query
    matchmaking_profile(event=event)
    with django_assert_num_queries(9):
        client.get(url("catalogue", event))
    for _ in range(3):
        matchmaking_profile(event=event)
    with django_assert_num_queries(9):
        client.get(url("catalogue", event))


def test_suggestions_show_the_reason(client, event, me):
    tag = Tag.objects.create(slug="clinical-validation", name="Clinical validation")
    me.seek_tags.add(tag)
    helper = matchmaking_profile(event=event)
    helper.offer_tags.add(tag)
    response = client.get(url("suggestions", event))
    [suggestion] = response.context["suggestions"]
    assert (suggestion.profile.pk, suggestion.reasons) == (helper.pk, ["tilbyder Clinical validation, som du søger"])


def test_sending_a_request_from_a_profile_page(client, event, me):
    other = matchmaking_profile(event=event)
    response = client.post(url("profile", event, other.pk), {"message": "We would like to test with you."})
    assert (response.status_code, MeetingRequest.objects.get().recipient) == (302, other)


def test_a_too_short_request_message_answers_400_and_saves_nothing(client, event, me):
    other = matchmaking_profile(event=event)
    response = client.post(url("profile", event, other.pk), {"message": "hi"})
    assert (response.status_code, MeetingRequest.objects.count()) == (400, 0)


def test_accepting_an_answered_request_again_answers_409(client, event, me):
    other = matchmaking_profile(event=event)
    request = services.request_send(sender=other, recipient=me, message="Let us talk about validation.")
    client.post(url("request_answer", event, request.pk, "decline"))
    assert client.post(url("request_answer", event, request.pk, "accept")).status_code == 409


def test_agenda_shows_the_placed_meeting_and_the_ics_holds_it(client, event, me):
    other = matchmaking_profile(event=event)
    meeting = placed_meeting(event, other, me)
    page = client.get(url("agenda", event))
    ics = Calendar.from_ical(client.get(url("agenda_ics", event)).content)
    [entry] = ics.walk("VEVENT")
    assert (
        [item.meeting.pk for item in page.context["items"]],
        entry.decoded("dtstart"),
        str(entry["summary"]),
    ) == ([meeting.pk], meeting.slot.starts_at, f"Møde med {other}")


def meeting_just_held(meeting):
    ended = timezone.now() - timedelta(minutes=5)
    Slot.objects.filter(pk=meeting.slot_id).update(starts_at=ended - timedelta(minutes=30), ends_at=ended)


def test_feedback_after_the_meeting_is_saved_and_can_be_changed(client, event, me):
    other = matchmaking_profile(event=event)
    meeting = placed_meeting(event, other, me)
    meeting_just_held(meeting)
    first = client.post(url("feedback", event, meeting.pk), {"happened": "no", "result": "", "comment": ""})
    second = client.post(url("feedback", event, meeting.pk), {"happened": "yes", "result": "deal", "comment": ""})
    page = client.get(url("feedback", event, meeting.pk)).content.decode()
    assert (first.status_code, second.status_code, list(meeting.feedback.values_list("happened", "result"))) == (
        302,
        302,
        [(True, "deal")],
    )
    assert '<option value="deal" selected>' in page


def test_feedback_before_the_meeting_is_not_offered_and_a_post_saves_nothing(client, event, me):
    other = matchmaking_profile(event=event)
    meeting = placed_meeting(event, other, me)
    page = client.get(url("feedback", event, meeting.pk))
    agenda = client.get(url("agenda", event)).content.decode()
    post = client.post(url("feedback", event, meeting.pk), {"happened": "yes", "result": "deal", "comment": ""})
    assert (
        page.status_code,
        'name="happened"' in page.content.decode(),
        post.status_code,
        meeting.feedback.count(),
    ) == (
        200,
        False,
        400,
        0,
    )
    assert "Du kan fortælle os, hvordan mødet gik, efter mødet." in page.content.decode()
    assert url("feedback", event, meeting.pk) not in agenda


def test_staff_grid_shows_who_sits_where(client, event):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = placed_meeting(event, a, b)
    admin_login(client)
    response = client.get(reverse("admin:matchmaking_grid", args=[event.matchmaking.pk]))
    rows = dict(response.context["rows"])
    assert rows[meeting.slot][meeting.table - 1] == meeting


def test_admin_report_counts_requests_meetings_and_follow_ups(client, event):
    a, b, c = (matchmaking_profile(event=event) for _ in range(3))
    meeting = placed_meeting(event, a, b)
    services.request_send(sender=c, recipient=a, message="Let us talk about validation.")
    services.meeting_record_outcome(meeting=meeting, by=StaffFactory(), outcome="held")
    services.feedback_submit(
        meeting=meeting, profile=a, happened=True, result="collaboration", now=meeting.slot.ends_at
    )
    admin_login(client)
    [row] = client.get(reverse("admin:matchmaking_report")).context["rows"]
    assert (row["requested"], row["accepted"], row["placed"], row["held"], row["followed_up"]) == (2, 1, 1, 1, 1)


def test_catalogue_filters_by_type_and_text(client, event, me):
    investor = matchmaking_profile(event=event)
    investor.kind = "investor"
    investor.offers_da = "Kapital til medicoteknik"
    investor.save()
    matchmaking_profile(event=event)
    response = client.get(url("catalogue", event), {"kind": "investor", "q": "kapital"})
    assert [p.pk for p in response.context["profiles"]] == [investor.pk]


def test_requests_page_query_count_does_not_grow(client, event, me, django_assert_num_queries):
    services.request_send(sender=matchmaking_profile(event=event), recipient=me, message="Let us talk about it.")
    with django_assert_num_queries(5):
        client.get(url("requests", event))
    for _ in range(3):
        services.request_send(sender=matchmaking_profile(event=event), recipient=me, message="Let us talk about it.")
    with django_assert_num_queries(5):
        client.get(url("requests", event))


def test_agenda_query_count_does_not_grow(client, event, me, django_assert_num_queries):
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=4)
    others = [matchmaking_profile(event=event) for _ in range(4)]
    request = services.request_send(sender=others[0], recipient=me, message="Let us talk about it.")
    services.request_accept(request=request, by=me.user)
    services.schedule_run(event=event, by=StaffFactory())
    with django_assert_num_queries(4):
        client.get(url("agenda", event))
    for other in others[1:]:
        request = services.request_send(sender=other, recipient=me, message="Let us talk about it.")
        services.request_accept(request=request, by=me.user)
    with django_assert_num_queries(4):
        response = client.get(url("agenda", event))
    assert len(response.context["items"]) == 4


def profile_post(me, **extra):
    return {
        "profile-display_name": me.display_name,
        "profile-organisation_name": "Medico",
        "profile-kind": "hospital",
        "profile-offers_da": "Klinisk afprøvning",
        "profile-offers_en": "Clinical trials",
        "profile-languages": ["da", "en"],
        **extra,
    }


def test_profile_edit_saves_both_languages_and_unavailable_slots(client, event, me):
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=2)
    slot = event.meeting_slots.first()
    response = client.post(url("profile_edit", event), profile_post(me, **{"availability-unavailable": [slot.pk]}))
    me.refresh_from_db()
    assert (
        response.status_code,
        me.offers_da,
        me.offers_en,
        me.kind,
        list(me.unavailable.values_list("slot", flat=True)),
    ) == (
        302,
        "Klinisk afprøvning",
        "Clinical trials",
        "hospital",
        [slot.pk],
    )


def test_profile_edit_refuses_a_slot_of_another_event_with_400(client, event, me):
    other_event = MatchmakingEventFactory()
    services.session_create(event=other_event, starts_at=other_event.starts_at, slot_minutes=30, slot_count=1)
    foreign = other_event.meeting_slots.get()
    response = client.post(url("profile_edit", event), profile_post(me, **{"availability-unavailable": [foreign.pk]}))
    me.refresh_from_db()
    assert (response.status_code, me.kind, me.unavailable.count()) == (400, "company", 0)


@pytest.mark.parametrize("model", ["matchmakingconfig", "profile", "meetingsession", "meetingrequest", "meeting"])
def test_admin_changelists_render_for_staff(client, event, model):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    placed_meeting(event, a, b)
    admin_login(client)
    with translation.override("da"):
        assert client.get(reverse(f"admin:events_{model}_changelist")).status_code == 200


def test_admin_meeting_action_locks_the_selected_meeting(client, event):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = placed_meeting(event, a, b)
    admin_login(client)
    with translation.override("da"):
        client.post(reverse("admin:events_meeting_changelist"), {"action": "lock", "_selected_action": [meeting.pk]})
    meeting.refresh_from_db()
    assert meeting.locked is True


def test_event_page_leads_a_confirmed_participant_to_matchmaking(client, event, me):
    with translation.override("da"):
        response = client.get(reverse("events:detail", args=[event.slug]))
    assert url("catalogue", event) in response.content.decode()


def index_url():
    with translation.override("da"):
        return reverse("matchmaking:index")


def test_the_matchmaking_index_lists_the_signed_in_persons_matchmaking_events(client, event, me):
    MatchmakingEventFactory(title="Someone else's meet and match")
    response = client.get(index_url())
    html = response.content.decode()
    assert (response.status_code, url("catalogue", event) in html, "Someone else's meet and match" in html) == (
        200,
        True,
        False,
    )


def test_the_matchmaking_index_explains_matchmaking_to_a_visitor_and_lists_open_events(client, event):
    response = client.get(index_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sådan fungerer matchmaking" in html
    assert event.get_absolute_url() in html


def test_a_suggestion_card_has_a_request_button_to_the_request_form(client, event, me):
    tag = Tag.objects.create(slug="clinical-validation", name="Clinical validation")
    me.seek_tags.add(tag)
    helper = matchmaking_profile(event=event)
    helper.offer_tags.add(tag)
    html = client.get(url("suggestions", event)).content.decode()
    assert f'<a class="button" href="{url("profile", event, helper.pk)}#ask">Bed om et møde</a>' in html


def test_a_participant_without_an_organisation_shows_no_dangling_separator(client, event, me):
    other = matchmaking_profile(event=event, organisation_name="")
    html = client.get(url("profile", event, other.pk)).content.decode()
    assert '<p class="muted">Virksomhed</p>' in html


def test_each_agenda_meeting_has_google_and_outlook_links_beside_the_ics(client, event, me):
    other = matchmaking_profile(event=event)
    meeting = placed_meeting(event, other, me)
    html = client.get(url("agenda", event)).content.decode()
    start = meeting.slot.starts_at.astimezone(UTC)
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE&amp;text=M%C3%B8de+med+" in html
    assert f"dates={start:%Y%m%dT%H%M%S}Z%2F" in html
    assert f"startdt={start:%Y-%m-%dT%H}%3A{start:%M}%3A00Z" in html
