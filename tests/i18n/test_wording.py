"""Danish wording: allauth's own Danish strings that are wrong or inconsistent are overridden in our catalogue, and
every count shown to a person takes the right plural form."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from members.models import MembershipApplication
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
    ("count", "members"), [(1, "<strong>1</strong> aktivt medlem"), (2, "<strong>2</strong> aktive medlemmer")]
)
def test_admin_dashboard_member_count_takes_plural_forms(count, members):
    dashboard = {"member_count": count, "pending_applications": count, "expiring_count": count}
    with translation.override("da"):
        html = render_to_string("admin/members/dashboard.html", {"dashboard": dashboard})
    assert members in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("count", "applications", "expiring"),
    [
        (1, "ansøgning venter på afgørelse", "medlemskab udløber inden for 30 dage"),
        (2, "ansøgninger venter på afgørelse", "medlemskaber udløber inden for 30 dage"),
    ],
)
def test_admin_figures_to_act_on_take_plural_forms(count, applications, expiring):
    from dlsc.dashboard import staff_figures
    from tests.factories import MembershipFactory, StaffFactory

    for _ in range(count):
        MembershipFactory(period_end=timezone.localdate() + timedelta(days=10))
    for n in range(count):
        MembershipApplication.objects.create(
            name=f"Firma {n}",
            legal_name=f"Firma {n} ApS",
            size_band="10-49",
            contact_name="Nina",
            contact_email=f"nina{n}@example.com",
            terms_accepted_at=timezone.now(),
        )
    with translation.override("da"):
        figures = {figure["key"]: (figure["count"], figure["label"]) for figure in staff_figures(user=StaffFactory())}
    assert (figures["applications"], figures["expiring"]) == ((count, applications), (count, expiring))


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
