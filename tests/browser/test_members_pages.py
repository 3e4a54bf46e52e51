"""Member pages as a person uses them in Chromium: a logo chosen, previewed, saved and shown; staff approving an
application from its own page; the fee on the application form; pages that fit a 320 px phone."""

import pytest

from tests.browser.journeys import csp_errors, log_in, png_bytes, sideways_scroll
from tests.factories import OrganisationRoleFactory, UserFactory, member_organisation_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_logo_chosen_previewed_and_saved_is_shown_and_served(page, live_server):
    organisation = member_organisation_create(name="Logofirma ApS", slug="logofirma")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    log_in(page, email=admin.email)
    page.goto(f"/da/members/manage/{organisation.pk}/edit/")
    page.set_input_files(
        "input[name=logo]", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.click("button[name=preview]")
    # The click returns once the preview's page has begun to load, not once its image has: wait for the image.
    page.wait_for_function(
        "() => { const img = document.querySelector('.preview img.organisation-logo'); return img && img.complete; }"
    )
    preview_logo = page.locator(".preview img.organisation-logo").first
    assert preview_logo.evaluate("img => img.complete && img.naturalWidth") == 40
    page.click("button[name=save]")
    page.wait_for_url(f"**/da/members/manage/{organisation.pk}/")
    organisation.refresh_from_db()
    assert organisation.logo.name.startswith("logos/logo")

    page.goto("/da/members/logofirma/")
    profile_logo = page.locator("main img.organisation-logo")
    assert profile_logo.evaluate("img => img.complete && img.naturalWidth") == 40
    page.goto("/da/members/")
    card_logo = page.locator(".directory-results .card:has-text('Logofirma ApS') img")
    assert card_logo.evaluate("img => img.complete && img.naturalWidth") == 40
    response = page.request.get(card_logo.get_attribute("src"))
    assert (response.status, response.headers["content-type"]) == (200, "image/png")
    assert csp_errors(page) == []


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_manage_page_fits_a_phone(page, live_server, language):
    organisation = member_organisation_create(name="Smal ApS")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    for n in range(3):
        colleague = UserFactory(
            email=f"en-meget-lang-kollega-adresse-{n}@smal-virksomhed.example", full_name=f"Kollega {n}"
        )
        OrganisationRoleFactory(organisation=organisation, user=colleague, role="member")
    log_in(page, email=admin.email, language=language)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/{language}/members/manage/{organisation.pk}/")
    assert sideways_scroll(page) == ""


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_partners_page_fits_a_phone(page, live_server, language):
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/{language}/members/partners/")
    assert page.locator(".card").count() > 10
    assert sideways_scroll(page) == ""


def test_partner_cards_link_to_the_partner_and_show_its_logo(page, live_server):
    from django.core.files.base import ContentFile

    from members.models import Partner

    ku = Partner.objects.get(slug="ku")
    ku.logo.save("ku.png", ContentFile(png_bytes()))
    page.goto("/en/members/partners/")
    card = page.locator(".partner-card:has-text('University of Copenhagen')")
    assert card.locator("h3 a").get_attribute("href") == "https://www.ku.dk"
    assert card.locator("img").evaluate("img => img.complete && img.naturalWidth") == 40
    dtu = page.locator(".partner-card:has-text('Technical University of Denmark')")
    assert (dtu.locator("h3 a").get_attribute("href"), dtu.locator(".partner-monogram").inner_text()) == (
        "https://www.dtu.dk",
        "DTU",
    )


@pytest.mark.parametrize(
    ("language", "small", "large"),
    [
        ("da", "7.500 kr. om året plus moms", "45.000 kr. om året plus moms"),
        ("en", "DKK 7,500 a year plus VAT", "DKK 45,000 a year plus VAT"),
    ],
)
def test_the_application_form_shows_the_fee_of_the_chosen_size_band(page, live_server, language, small, large):
    page.goto(f"/{language}/members/apply/")
    from members.models import MembershipType

    fee = page.locator("#membership-fee strong")
    assert fee.count() == 0
    page.check(f"input[name=membership_type][value='{MembershipType.objects.get(slug='company').pk}']")
    assert fee.count() == 0  # a type alone has no fee yet: the size band decides it
    page.select_option("select[name=size_band]", "10-49")
    assert fee.inner_text() == small
    page.select_option("select[name=size_band]", "250+")
    assert fee.inner_text() == large
    assert page.locator("select[name=country]").input_value() == "DK"
    assert csp_errors(page) == []
    assert page.console_errors == []
