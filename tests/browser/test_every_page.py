"""Every page the role journeys visit, as that role sees it: in Danish and English, at 1280 and 320 px, each page
answers below 400, never scrolls sideways, logs no console error, and (once per language) passes axe-core with no
serious or critical violation."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from members.models import MembershipApplication
from tests.browser.journeys import sideways_scroll
from tests.conftest import axe_violations
from tests.factories import (
    CampaignFactory,
    EventFactory,
    EventRegistrationFactory,
    MatchmakingEventFactory,
    OrganisationRoleFactory,
    StaffFactory,
    TopicFactory,
    UserFactory,
    cvr_valid,
    matchmaking_profile,
    member_organisation_create,
    staff_totp_activate,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 320)


def world() -> dict:
    """One of each thing the journeys meet, in a state where its pages render."""
    from events.matchmaking import services as matchmaking
    from newsletters.models import Campaign

    organisation = member_organisation_create(name="Solsikke Health ApS", slug="solsikke-health")
    company_admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    event = EventFactory(slug="open-house", capacity=40)
    guest = EventRegistrationFactory(event=event, email="guest@example.com")
    mm_event = MatchmakingEventFactory(slug="meet-and-match")
    matchmaking.session_create(event=mm_event, starts_at=mm_event.starts_at, slot_minutes=30, slot_count=3)
    participant = matchmaking_profile(event=mm_event, full_name="Mette Holm")
    other = matchmaking_profile(event=mm_event, full_name="Jonas Friis")
    topic = TopicFactory(slug="news")
    issue = CampaignFactory(topics=[topic])
    draft = CampaignFactory(topics=[topic])
    Campaign.objects.filter(pk=issue.pk).update(
        status="sent", started_at=timezone.now() - timedelta(days=2), finished_at=timezone.now() - timedelta(days=2)
    )
    staff = StaffFactory()
    staff_totp_activate(staff)
    application = MembershipApplication.objects.create(
        name="Nordlys Diagnostics",
        legal_name="Nordlys Diagnostics ApS",
        cvr=cvr_valid(777),
        size_band="10-49",
        city="Aalborg",
        contact_name="Nina Nordlys",
        contact_email="nina@nordlys.example",
        terms_accepted_at=timezone.now(),
    )
    return {
        "application": application,
        "organisation": organisation,
        "company_admin": company_admin,
        "event": event,
        "guest": guest,
        "mm_event": mm_event,
        "participant": participant,
        "other": other,
        "issue": issue,
        "draft": draft,
        "staff": staff,
        "member": UserFactory(),
    }


def pages_for(role: str, w: dict) -> list[str]:
    from events.services import registration_token

    visitor = [
        "/",
        "/members/",
        "/members/?q=health",
        f"/members/{w['organisation'].slug}/",
        "/members/partners/",
        "/members/apply/",
        "/hubs/",
        "/hubs/aarhus/",
        "/events/",
        f"/events/{w['event'].slug}/",
        "/events/past/",
        f"/events/registration/{registration_token(w['guest'])}/",
        f"/events/registration/{registration_token(w['guest'])}/cancel/",
        "/matchmaking/",
        "/members/terms/",
        "/about/privacy/",
        "/about/contact/",
        "/about/imprint/",
        "/newsletter/",
        "/newsletter/archive/",
        f"/newsletter/archive/{w['issue'].pk}/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
    ]
    if role == "visitor":
        return visitor
    if role == "company_admin":
        pk = w["organisation"].pk
        return [
            "/account/",
            "/account/profile/",
            f"/members/manage/{pk}/",
            f"/members/manage/{pk}/edit/",
            "/accounts/email/",
            "/account/delete/",
        ]
    if role == "participant":
        slug = w["mm_event"].slug
        return [
            f"/matchmaking/{slug}/",
            f"/matchmaking/{slug}/me/",
            f"/matchmaking/{slug}/suggestions/",
            f"/matchmaking/{slug}/requests/",
            f"/matchmaking/{slug}/agenda/",
            f"/matchmaking/{slug}/people/{w['other'].pk}/",
            "/matchmaking/",
            "/account/",
        ]
    return [
        "/admin/",
        "/admin/members/membershipapplication/",
        f"/admin/members/membershipapplication/{w['application'].pk}/change/",
        f"/admin/members/membershipapplication/{w['application'].pk}/approve/",
        "/admin/members/organisation/",
        "/admin/events/event/",
        "/admin/events/registration/",
        "/admin/newsletters/campaign/",
        f"/admin/newsletters/campaign/{w['issue'].pk}/change/",
        f"/admin/newsletters/campaign/{w['draft'].pk}/send/",
        "/admin/outbox/outboxmessage/",
        "/admin/events/registration/retention/",
        f"/events/{w['event'].slug}/check-in/",
    ]


def user_for(role: str, w: dict):
    return {
        "visitor": None,
        "company_admin": w["company_admin"],
        "participant": w["participant"].user,
        "staff": w["staff"],
    }[role]


def act_as(context, live_server, user) -> None:
    context.clear_cookies()
    if user is None:
        return
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


# One test per role and language, so that parallel test processes share the longest of them.
@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("role", ["visitor", "company_admin", "participant", "staff"])
def test_every_page_of_the_role_fits_a_phone_and_passes_axe(browser, live_server, role, language):
    w = world()
    problems = []
    for width in WIDTHS:
        context = browser.new_context(
            base_url=live_server.url,
            locale="da-DK" if language == "da" else "en-GB",
            viewport={"width": width, "height": 900},
        )
        act_as(context, live_server, user_for(role, w))
        page = context.new_page()
        page.set_default_timeout(15000)
        errors = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        for path in pages_for(role, w):
            url = f"/{language}{path}"
            errors.clear()
            response = page.goto(url)
            page.wait_for_load_state("load")
            if response.status >= 400:
                problems.append(f"{url} @{width}: HTTP {response.status}")
            if overflow := sideways_scroll(page):
                problems.append(f"{url} @{width}: {overflow}")
            if errors:
                problems.append(f"{url} @{width}: console {errors}")
            # axe once per page and language: Danish at the desktop width, English on the phone.
            if (language, width) in (("da", 1280), ("en", 320)):
                violations = axe_violations(page)
                if violations:
                    problems.append(f"{url} @{width}: axe {violations}")
        context.close()
    assert problems == []
