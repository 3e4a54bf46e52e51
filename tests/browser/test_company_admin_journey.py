"""The company admin's journey in a real browser, in both languages and at both widths: the manage page, a profile
edit with a logo (chosen, previewed, saved), the logo in the directory, and an invitation to a colleague. Every page
fits the screen, logs no console error and passes axe-core."""

import pytest

from tests.browser.journeys import act_as, png_bytes, sideways_scroll
from tests.factories import OrganisationRoleFactory, member_organisation_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check(page, assert_accessible, width):
    assert (page.url, page.viewport_size["width"], sideways_scroll(page)) == (page.url, width, "")
    assert page.console_errors == [], page.url
    assert_accessible(page)


@pytest.mark.parametrize(("language", "width"), [("da", 1280), ("en", 320), ("da", 320), ("en", 1280)])
def test_profile_with_a_logo_shown_in_the_directory_and_a_colleague_invited(
    page, live_server, assert_accessible, language, width
):
    from members.models import Invitation

    page.set_viewport_size({"width": width, "height": 800})
    organisation = member_organisation_create(name="Logofirma ApS", slug="logofirma")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    act_as(page, live_server, admin)

    page.goto(f"/{language}/members/manage/{organisation.pk}/")
    check(page, assert_accessible, width)
    page.goto(f"/{language}/members/manage/{organisation.pk}/edit/")
    check(page, assert_accessible, width)
    page.set_input_files(
        "input[name=logo]", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.click("button[name=preview]")
    page.locator(".preview img.organisation-logo").first.wait_for()
    check(page, assert_accessible, width)
    page.click("button[name=save]")
    page.wait_for_url(f"**/{language}/members/manage/{organisation.pk}/")

    page.goto(f"/{language}/members/")
    card_logo = page.locator(".directory-results .card:has-text('Logofirma ApS') img")
    assert card_logo.evaluate("img => img.complete && img.naturalWidth") == 40
    check(page, assert_accessible, width)

    page.goto(f"/{language}/members/manage/{organisation.pk}/")
    page.fill("#id_email", "kollega@logofirma.example")
    page.locator("form[action$='/invite/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "kollega@logofirma.example" in page.locator("main").inner_text()
    check(page, assert_accessible, width)
    assert list(Invitation.objects.values_list("email", "role")) == [("kollega@logofirma.example", "member")]
