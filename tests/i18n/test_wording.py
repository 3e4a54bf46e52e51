"""Danish wording: allauth's own Danish strings that are wrong or inconsistent are overridden in our catalogue, and
every count shown to a person takes the right plural form."""

import pytest
from allauth.mfa.models import Authenticator
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, ngettext

from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("msgid", "danish"),
    [
        ("Verified", "Bekræftet"),
        ("Email Addresses", "E-mailadresser"),
        ("Add Email", "Tilføj e-mail"),
        ("Add Email Address", "Tilføj e-mailadresse"),
        ("Reset My Password", "Nulstil min adgangskode"),
        ("Successfully signed in as %(name)s.", "Du er logget ind som %(name)s."),
    ],
)
def test_allauths_danish_strings_are_overridden_by_ours(msgid, danish):
    with translation.override("da"):
        assert gettext(msgid) == danish


@pytest.mark.django_db
def test_email_page_says_verified_correctly(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get("/da/accounts/email/").content.decode()
    assert "Bekræftet" in html
    assert "Bekæftet" not in html
    assert "Emailadresser" not in html


def test_authenticators_have_a_danish_name_in_the_admin():
    with translation.override("da"):
        assert str(Authenticator._meta.verbose_name_plural) == "godkendere"
        assert str(Authenticator._meta.verbose_name) == "godkender"


@pytest.mark.parametrize(
    ("count", "members", "applications", "expiring"),
    [
        (
            1,
            "1</strong> aktivt medlem",
            "1</strong> ventende ansøgning",
            "1</strong> medlemskab udløber inden for 30 dage",
        ),
        (
            2,
            "2</strong> aktive medlemmer",
            "2</strong> ventende ansøgninger",
            "2</strong> medlemskaber udløber inden for 30 dage",
        ),
    ],
)
def test_admin_dashboard_figures_take_plural_forms(count, members, applications, expiring):
    dashboard = {"member_count": count, "pending_applications": count, "expiring_count": count}
    with translation.override("da"):
        html = render_to_string("admin/members/dashboard.html", {"dashboard": dashboard})
    assert members in html
    assert applications in html
    assert expiring in html


@pytest.mark.parametrize(
    ("count", "danish"),
    [
        (1, "Du har 1 ubesvaret anmodning, det højeste antal dette arrangement tillader. Vent på svar først."),
        (3, "Du har 3 ubesvarede anmodninger, det højeste antal dette arrangement tillader. Vent på svar først."),
    ],
)
def test_the_request_limit_message_takes_a_plural_form(count, danish):
    with translation.override("da"):
        message = ngettext(
            "You have %(count)d unanswered request, the most this event allows. Wait for an answer first.",
            "You have %(count)d unanswered requests, the most this event allows. Wait for answers first.",
            count,
        )
    assert message % {"count": count} == danish
