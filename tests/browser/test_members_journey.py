"""The member journey in a real browser, in both languages: apply, staff approve in the admin (with TOTP), the
contact logs in, edits the profile with a preview, invites a colleague who accepts; then the directory is filtered."""

import re
from urllib.parse import urlparse

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from members.models import MembershipApplication, MembershipType, Organisation, OrganisationRole
from members.services import one_year_from
from outbox.models import OutboxMessage
from tests.factories import PASSWORD, StaffFactory, cvr_valid, staff_totp_activate, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTACT = "kontakt@solsikke.example"
COLLEAGUE = "kollega@solsikke.example"


def mail_link(*, to: str, template: str, pattern: str) -> str:
    body = OutboxMessage.objects.filter(to=to, template=template).latest("pk").body_text
    return re.search(pattern, body).group(0)


def log_in(page, *, language: str, email: str, password: str) -> None:
    page.goto(f"/{language}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")


def log_out(page, *, language: str) -> None:
    page.goto(f"/{language}/")
    page.click("form[action$='/logout/'] button[type=submit]")


@pytest.mark.parametrize("language", ["da", "en"])
def test_member_journey(page, live_server, assert_accessible, language):
    from hubs.models import Region
    from members.models import Segment

    # 1. A new company applies.
    page.goto(f"/{language}/members/apply/")
    assert_accessible(page)
    page.fill("input[name=name]", "Solsikke Health")
    page.fill("input[name=legal_name]", "Solsikke Health ApS")
    page.fill("input[name=cvr]", cvr_valid(4242))
    page.select_option("select[name=size_band]", "10-49")
    page.check(f"input[name=membership_type][value='{MembershipType.objects.get(slug='company').pk}']")
    page.check(f"input[name=segments][value='{Segment.objects.get(code='medtech').pk}']")
    page.fill("input[name=city]", "Aarhus")
    page.select_option("select[name=region]", str(Region.objects.get(code="midtjylland").pk))
    page.fill("input[name=contact_name]", "Karen Kontakt")
    page.fill("input[name=contact_email]", CONTACT)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.check("input[name=accept_terms]")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/{language}/members/apply/thanks/")
    assert MembershipApplication.objects.get().status == "pending"

    # The contact confirms their address through allauth.
    page.goto(mail_link(to=CONTACT, template="account/email/email_confirmation_signup", pattern=r"https?://\S+"))
    page.click("form[method=post] button[type=submit]")
    page.wait_for_url(f"**/{language}/accounts/login/")

    # 2. Staff approve in the admin, logging in with a password and a TOTP code.
    staff = StaffFactory(email="signe@dlsc.example")
    secret = staff_totp_activate(staff)
    log_in(page, language=language, email=staff.email, password=PASSWORD)
    page.fill("input[name=code]", totp_code(secret))
    page.click("form button[type=submit]")
    page.goto(f"/{language}/admin/members/membershipapplication/")
    page.click("text=Solsikke Health")
    page.click("a.decide-approve")
    terms = page.locator(".approval-terms dd")
    today = timezone.localdate()
    with translation.override(language):
        assert terms.all_inner_texts()[:5] == [
            str(Organisation.Kind.COMPANY.label),
            str(Organisation.SizeBand.SMALL.label),
            "7.500 kr." if language == "da" else "DKK 7,500",
            "Aarhus",
            f"{date_format(today, 'DATE_FORMAT')} – {date_format(one_year_from(today), 'DATE_FORMAT')}",
        ]
    assert MembershipApplication.objects.get().status == "pending"
    page.click("input[name=approve]")
    page.wait_for_selector("ul.messagelist li.success")
    organisation = Organisation.objects.get(name="Solsikke Health")
    assert organisation.hub.slug == "aarhus"
    log_out(page, language=language)

    # 3. The contact logs in, edits the profile in both languages, previews, saves.
    log_in(page, language=language, email=CONTACT, password=PASSWORD)
    page.wait_for_url(f"**/{language}/account/")
    assert_accessible(page)
    page.goto(f"/{language}/members/manage/{organisation.pk}/edit/")
    assert_accessible(page)
    page.fill("textarea[name=description_da]", "Vi udvikler sensorer til genoptræning.")
    page.fill("textarea[name=description_en]", "We develop sensors for rehabilitation.")
    page.click("button[name=preview]")
    assert page.locator(".preview").inner_text().count("sensor") == 2
    page.click("button[name=save]")
    page.wait_for_url(f"**/{language}/members/manage/{organisation.pk}/")
    organisation.refresh_from_db()
    assert organisation.description_en == "We develop sensors for rehabilitation."

    # 4. The contact invites a colleague, who accepts with a new account.
    assert_accessible(page)
    page.fill("input[name=email]", COLLEAGUE)
    page.click("form[action$='/invite/'] button[type=submit]")
    page.wait_for_selector(".message-success")
    invitation_url = mail_link(to=COLLEAGUE, template="members/email/invitation", pattern=r"https?://\S+")
    log_out(page, language=language)
    page.goto(urlparse(invitation_url).path)  # the mail links to SITE_URL; the test server runs elsewhere
    assert_accessible(page)
    page.fill("input[name=full_name]", "Kim Kollega")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/{language}/account/")
    assert page.locator("#my-organisations-heading ~ article h3").inner_text() == "Solsikke Health"
    assert OrganisationRole.objects.get(user__email=COLLEAGUE).role == "member"

    # 5. The directory, filtered by segment and hub, finds the new member.
    page.goto(f"/{language}/members/")
    assert_accessible(page)
    page.select_option("select[name=segment]", "medtech")
    page.select_option("select[name=hub]", "aarhus")
    page.click("form.directory-filters button[type=submit]")
    # The click only starts the navigation: read the results once the filtered page is there (CI read an empty
    # document half-way through loading it, once).
    page.wait_for_url(re.compile(r"[?&]segment=medtech&.*hub=aarhus"))
    expect(page.locator(".directory-results h2")).to_have_text(["Solsikke Health"])
    page.click("text=Solsikke Health")
    assert_accessible(page)
    expected = (
        "Vi udvikler sensorer til genoptræning." if language == "da" else "We develop sensors for rehabilitation."
    )
    assert expected in page.locator("main").inner_text()
