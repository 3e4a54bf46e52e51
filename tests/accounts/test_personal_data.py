"""A person's data across every app: the registry covers every model with personal fields, the download holds
everything we keep (JSON and a page in their language), and deleting the account leaves no row that names them."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.personal_data import personal_data_covered_models
from accounts.services import AccountDeletionBlocked, user_delete
from events.matchmaking import services as matchmaking
from events.models import Answer, MeetingRequest, Registration
from events.services import registration_create
from members.models import MembershipApplication
from newsletters.models import ConsentRecord, Subscriber
from newsletters.selectors import consent_withdrawal_proof
from newsletters.subscriptions import consent_record
from outbox.api import mail_enqueue_rendered
from outbox.models import OutboxMessage
from tests.factories import (
    PASSWORD,
    EventFactory,
    EventQuestionFactory,
    MatchmakingEventFactory,
    OrganisationFactory,
    OrganisationRoleFactory,
    StaffFactory,
    SubscriberFactory,
    UserFactory,
    matchmaking_profile,
)

pytestmark = pytest.mark.django_db

PERSONAL_NAME = re.compile(r"^(full|first|last|display|contact|given|family|sur)_?name$")
EMAIL = "karen@example.com"


def personal_fields(model) -> list:
    """The fields that make a row about a person: an email, a person's name, a link to the user."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        field
        for field in model._meta.get_fields()
        if (getattr(field, "concrete", False) or field.many_to_many)
        and not field.auto_created
        and (
            isinstance(field, models.EmailField)
            or PERSONAL_NAME.match(field.name)
            or (field.is_relation and field.related_model is user_model)
        )
    ]


def test_every_model_with_personal_fields_is_covered_by_a_registration():
    uncovered = sorted(
        model._meta.label
        for model in apps.get_models()
        if personal_fields(model) and model._meta.label not in personal_data_covered_models()
    )
    assert uncovered == []


def test_the_registry_check_finds_a_model_no_app_registered():
    class Volunteer(models.Model):
        contact_name = models.CharField(max_length=100)

        class Meta:
            app_label = "events"

        def __str__(self):
            return self.contact_name

    try:
        assert (personal_fields(Volunteer) != [], "events.Volunteer" in personal_data_covered_models()) == (
            True,
            False,
        )
    finally:
        apps.all_models["events"].pop("volunteer")
        apps.clear_cache()


@pytest.fixture
def person():
    """Karen, with something in every app: registrations (one upcoming with a waitlist behind her, one past),
    a matchmaking profile with a placed meeting and a request, a subscription with its ledger, an application,
    mail sent and mail still queued."""
    user = UserFactory(email=EMAIL, full_name="Karen Blixen", preferred_language="da")
    organisation = OrganisationFactory(name="Rungsted Bio ApS", size_band="10-49")
    OrganisationRoleFactory(organisation=organisation, user=user, role="member")
    upcoming = EventFactory(
        title_da="Klinisk validering", title_en="Clinical validation", capacity=1, status="published"
    )
    question = EventQuestionFactory(event=upcoming, label_da="Kost", label_en="Diet", kind="text")
    registration_create(
        event=upcoming,
        full_name=user.full_name,
        email=user.email,
        language="da",
        user=user,
        organisation=organisation,
        answers={question.pk: "Vegetar"},
    )
    registration_create(event=upcoming, full_name="Next In Line", email="next@example.com", language="en")
    past = EventFactory(
        title_da="Netværksmøde",
        title_en="Network meeting",
        status="published",
        starts_at=timezone.now() - timedelta(days=30),
        ends_at=timezone.now() - timedelta(days=30) + timedelta(hours=2),
    )
    Registration.objects.create(
        event=past,
        user=user,
        organisation=organisation,
        full_name=user.full_name,
        email=user.email,
        organisation_name="Rungsted Bio ApS",
        job_title="CEO",
        status="confirmed",
        attendance="attended",
        is_member=True,
        consent_at=past.starts_at - timedelta(days=5),
        confirmed_at=past.starts_at - timedelta(days=5),
    )
    meet = MatchmakingEventFactory(title="Meet and match")
    matchmaking.session_create(event=meet, starts_at=meet.starts_at, slot_minutes=30, slot_count=2)
    mine = matchmaking_profile(event=meet, user=user, organisation=organisation)
    other = matchmaking_profile(event=meet, language="en")
    request = matchmaking.request_send(sender=mine, recipient=other, message="Shall we talk about trials?")
    matchmaking.request_accept(request=request, by=other.user)
    matchmaking.schedule_run(event=meet, by=StaffFactory())
    subscriber = SubscriberFactory(email=EMAIL, name="Karen Blixen", user=user)
    consent_record(
        subscriber=subscriber, action="opt_in", source="form", ip_address="192.0.2.7", consent_text_version="v1"
    )
    MembershipApplication.objects.create(
        legal_name="Rungsted Bio ApS",
        name="Rungsted Bio",
        size_band="10-49",
        contact_name="Karen Blixen",
        contact_email=EMAIL,
        contact_phone="+45 12 34 56 78",
        terms_accepted_at=timezone.now(),
        applicant=user,
    )
    mail_enqueue_rendered(template="test", to=EMAIL, language="da", subject="Still queued", body_text="Hej Karen")
    return user, other


def rows_about(user) -> dict[str, int]:
    """For every table the app registry knows, the rows that name this person (by user link, address or name)."""
    addresses = {user.email, *user.emailaddress_set.values_list("email", flat=True)}
    counts = {}
    for model in apps.get_models():
        condition = models.Q(pk__in=[])
        for field in personal_fields(model):
            if field.is_relation:
                condition |= models.Q(**{field.name: user.pk})
            elif isinstance(field, models.EmailField):
                for address in addresses:
                    condition |= models.Q(**{f"{field.name}__iexact": address})
            elif user.full_name:
                condition |= models.Q(**{field.name: user.full_name})
        count = model._base_manager.filter(condition).count() if personal_fields(model) else 0
        if count:
            counts[model._meta.label] = count
    return counts


def test_deleting_the_account_leaves_no_row_about_the_person(person):
    user, _other = person
    before = rows_about(user)
    user_delete(user=user)
    assert (before, rows_about(user)) == (
        {
            "accounts.User": 1,
            "account.EmailAddress": 1,
            "accounts.AuditEntry": 1,
            "members.MembershipApplication": 1,
            "members.OrganisationRole": 1,
            "events.Registration": 3,
            "events.Profile": 1,
            "newsletters.Subscriber": 1,
            "outbox.OutboxMessage": 4,
        },
        {},
    )


def test_deleting_cancels_the_upcoming_place_and_the_waitlist_moves_up(person):
    user, _other = person
    user_delete(user=user)
    event = Registration.objects.get(email="next@example.com").event
    upcoming = Registration.objects.filter(event=event).order_by("pk")
    assert [(r.status, r.full_name) for r in upcoming] == [("cancelled", ""), ("confirmed", "Next In Line")]


def test_deleting_keeps_past_registrations_anonymous_for_statistics(person):
    user, _other = person
    past = Registration.objects.get(attendance="attended")
    user_delete(user=user)
    past.refresh_from_db()
    assert (
        past.user_id,
        past.full_name,
        past.email,
        past.job_title,
        past.organisation.size_band,
        past.organisation_name,
        past.attendance,
        past.status,
    ) == (
        None,
        "",
        f"anonymised-{past.pk}@anonymised.invalid",
        "",
        "10-49",
        "Rungsted Bio ApS",
        "attended",
        "confirmed",
    )


def test_deleting_drops_the_answers(person):
    user, _other = person
    user_delete(user=user)
    assert Answer.objects.count() == 0


def test_deleting_cancels_meetings_and_tells_the_counterpart_once_in_their_language(person):
    user, other = person
    user_delete(user=user)
    told = OutboxMessage.objects.filter(template="events/matchmaking/email/participant_withdrawn")
    assert (
        [(m.to, m.language, m.subject) for m in told],
        list(MeetingRequest.objects.values_list("status", flat=True)),
    ) == (
        [(other.user.email, "en", "Karen Blixen no longer takes part in matchmaking at Meet and match")],
        ["cancelled"],
    )


def test_deleting_unsubscribes_and_anonymises_the_subscriber_keeping_a_tombstone(person):
    user, _other = person
    subscriber = Subscriber.objects.get(email=EMAIL)
    user_delete(user=user)
    subscriber.refresh_from_db()
    ledger = list(subscriber.consent_records.order_by("pk").values_list("action", "ip_address"))
    proof = consent_withdrawal_proof(email="Karen@Example.com")
    assert (subscriber.status, subscriber.email, subscriber.name, subscriber.user_id, ledger) == (
        "unsubscribed",
        f"erased-{subscriber.pk}@example.invalid",
        "",
        None,
        [("opt_in", None), ("opt_out", None), ("erase", None)],
    )
    assert (proof.subscriber_id, proof.action, len(proof.email_hash), EMAIL in proof.email_hash) == (
        subscriber.pk,
        ConsentRecord.Action.ERASE,
        64,
        False,
    )


def test_the_tombstone_still_proves_the_withdrawal_after_the_secret_key_is_rotated(person, settings):
    user, _other = person
    user_delete(user=user)
    erased = Subscriber.objects.get(user__isnull=True, status="unsubscribed")
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "n" * 50, [old_key]
    assert consent_withdrawal_proof(email=EMAIL).subscriber_id == erased.pk
    settings.SECRET_KEY_FALLBACKS = []
    assert consent_withdrawal_proof(email=EMAIL) is None


def test_the_tombstone_proves_nothing_for_another_address(person):
    user, _other = person
    user_delete(user=user)
    assert consent_withdrawal_proof(email="someone.else@example.com") is None


def test_deleting_cancels_mail_still_queued_and_strips_sent_mail(person):
    user, _other = person
    queued = OutboxMessage.objects.get(subject="Still queued")
    user_delete(user=user)
    queued.refresh_from_db()
    assert (queued.status, queued.to, queued.body_text, queued.subject) == ("cancelled", "", "", "Still queued")


def test_deleting_anonymises_the_application_contact(person):
    user, _other = person
    user_delete(user=user)
    application = MembershipApplication.objects.get()
    assert (application.contact_name, application.contact_email, application.contact_phone, application.name) == (
        "",
        "",
        "",
        "Rungsted Bio",
    )


def test_the_last_admin_of_a_company_still_cannot_leave():
    admin = OrganisationRoleFactory(role="admin").user
    with pytest.raises(AccountDeletionBlocked):
        user_delete(user=admin)
    assert type(admin).objects.filter(pk=admin.pk).count() == 1


def test_deleting_through_the_page_logs_out_and_erases(client, person):
    user, _other = person
    client.force_login(user)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert (response.status_code, rows_about(user)) == (302, {})


def test_the_download_holds_what_every_app_keeps(client, person):
    user, other = person
    client.force_login(user)
    response = client.get(reverse("accounts:personal_data"))
    data = response.json()
    registrations = {r["event"]: r for r in data["events"]["registrations"]}
    assert (
        response["Content-Disposition"],
        sorted(data),
        registrations["Klinisk validering"]["answers"],
        registrations["Netværksmøde"]["attendance"],
        [(p["event"], p["name"]) for p in data["matchmaking"]["profiles"]],
        [(r["other"], r["message"], r["status"]) for r in data["matchmaking"]["meeting_requests"]],
        [(m["with"], m["table"]) for m in data["matchmaking"]["meetings"]],
        [(r["action"], r["ip_address"]) for r in data["newsletters"]["subscriptions"][0]["consent_ledger"]],
        (
            data["newsletters"]["subscriptions"][0]["bounce_score"],
            data["newsletters"]["subscriptions"][0]["last_bounce"],
        ),
        [(a["contact_name"], a["contact_phone"]) for a in data["members"]["membership_applications"]],
        sorted(m["subject"] for m in data["outbox"]["mails"] if m["subject"] == "Still queued"),
        len(data["outbox"]["mails"]),
        [e["action"] for e in data["account"]["audit_entries"]],
    ) == (
        'attachment; filename="dlsc-personal-data.json"',
        ["account", "billing", "events", "hubs", "matchmaking", "members", "newsletters", "outbox"],
        [{"question": "Kost", "answer": "Vegetar"}],
        "attended",
        [("Meet and match", "Karen Blixen")],
        [(other.display_name, "Shall we talk about trials?", "accepted")],
        [(other.display_name, 1)],
        [("opt_in", "192.0.2.7")],
        (0, None),
        [("Karen Blixen", "+45 12 34 56 78")],
        ["Still queued"],
        4,
        ["matchmaking.request_send", "matchmaking.request_accepted"],
    )


@pytest.mark.parametrize(
    ("language", "heading", "section", "field"),
    [
        ("da", "Mine personoplysninger", "Tilmeldinger til arrangementer", "Jobtitel"),
        ("en", "My personal data", "Event registrations", "Job title"),
    ],
)
def test_the_data_page_is_in_the_persons_language(client, person, language, heading, section, field):
    user, _other = person
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    client.force_login(user)
    response = client.get(reverse("accounts:personal_data_page"))
    html = response.content.decode()
    assert (
        response.status_code,
        f"<h1>{heading}</h1>" in html,
        f">{section}</h2>" in html,
        f"<dt>{field}</dt>" in html,
    ) == (
        200,
        True,
        True,
        True,
    )
    assert ("Vegetar" in html, "Shall we talk about trials?" in html, "192.0.2.7" in html) == (True, True, True)


def test_the_data_page_sends_anonymous_visitors_to_log_in(client):
    assert client.get(reverse("accounts:personal_data_page")).status_code == 302


def test_deleting_keeps_audit_rows_but_not_the_persons_name_or_address(person):
    from accounts.models import AuditEntry

    user, _other = person
    total = AuditEntry.objects.count()
    user_delete(user=user)
    naming = AuditEntry.objects.filter(
        models.Q(target_repr__icontains="Karen Blixen") | models.Q(target_repr__icontains=EMAIL)
    )
    added = sorted(AuditEntry.objects.order_by("pk").values_list("action", flat=True)[total:])
    assert (added, naming.count()) == (
        [
            "accounts.user.delete",
            "events.registration.cancel",
            "events.registration.cancel",
            "matchmaking.participant_withdraw",
        ],
        0,
    )


def test_the_delete_page_says_what_deletion_does(client):
    client.force_login(UserFactory(preferred_language="da"))
    html = client.get(reverse("accounts:delete")).content.decode()
    assert "de personer, du skulle mødes med, får besked" in html


def test_deleting_keeps_the_other_sides_past_meetings_and_feedback(person):
    from events.models import Meeting, MeetingFeedback, Profile

    user, _other = person
    past = MatchmakingEventFactory(
        title="Last year's match",
        starts_at=timezone.now() - timedelta(days=40),
        ends_at=timezone.now() - timedelta(days=39),
    )
    matchmaking.session_create(event=past, starts_at=past.starts_at, slot_minutes=30, slot_count=1)
    mine = matchmaking_profile(event=past, user=user)
    theirs = matchmaking_profile(event=past)
    # The meeting was asked for, agreed and placed before the event, and its feedback given just after it.
    before = past.starts_at - timedelta(days=7)
    request = matchmaking.request_send(sender=mine, recipient=theirs, message="About our trial data", now=before)
    matchmaking.request_accept(request=request, by=theirs.user, now=before)
    matchmaking.schedule_run(event=past, by=StaffFactory(), now=before)
    meeting = Meeting.objects.get(event=past)
    after = past.ends_at + timedelta(hours=1)
    matchmaking.feedback_submit(
        meeting=meeting, profile=theirs, happened=True, result="follow_up", comment="Good", now=after
    )
    matchmaking.feedback_submit(meeting=meeting, profile=mine, happened=True, comment="Karen's own notes", now=after)
    mailed = OutboxMessage.objects.filter(to=theirs.user.email).count()
    user_delete(user=user)
    mine.refresh_from_db()
    request.refresh_from_db()
    assert (
        (mine.user_id, mine.display_name),
        Meeting.objects.filter(event=past).count(),
        sorted(MeetingFeedback.objects.filter(meeting=meeting).values_list("comment", flat=True)),
        (request.status, request.message),
        Profile.objects.filter(event=past).count(),
        OutboxMessage.objects.filter(to=theirs.user.email).count() - mailed,
    ) == ((None, ""), 1, ["", "Good"], ("accepted", ""), 2, 0)


def test_a_hub_contact_card_with_the_persons_address_is_exported_and_goes_with_the_account():
    from accounts.personal_data import personal_data_collect
    from hubs.models import Hub, HubContact

    user = UserFactory(email="signe@dlsc.example")
    odense = Hub.objects.get(slug="odense")
    HubContact.objects.create(hub=odense, name="Signe Staff", role="Hub lead", email="signe@dlsc.example")
    HubContact.objects.create(hub=odense, name="Other Person", role="Matchmaker", email="other@dlsc.example")
    exported = personal_data_collect(user=user)["hubs"]["hub_contact_cards"]
    user_delete(user=user)
    assert (exported, list(HubContact.objects.values_list("name", flat=True))) == (
        [{"hub": "Odense", "name": "Signe Staff", "role": "Hub lead", "email": "signe@dlsc.example", "phone": ""}],
        ["Other Person"],
    )
