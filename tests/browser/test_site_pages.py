"""What a person sees of the site team's work: the web font in use, the footer's legal links on a phone, the legal
pages themselves."""

import pytest

from tests.browser.journeys import csp_errors, sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_are_set_in_the_vendored_web_font(page):
    page.goto("/da/")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('17px \"Source Sans 3 Variable\"')") is True
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Source Sans 3 Variable"')
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert '"Source Sans 3 Variable"' in loaded or "Source Sans 3 Variable" in loaded
    assert csp_errors(page) == []
    assert page.console_errors == []


@pytest.mark.parametrize(
    ("language", "link", "heading"), [("da", "Privatlivspolitik", "Privatlivspolitik"), ("en", "Imprint", "Imprint")]
)
def test_footer_leads_to_the_legal_pages_on_a_phone(page, assert_accessible, language, link, heading):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/{language}/")
    footer_link = page.locator(".site-footer").get_by_role("link", name=link, exact=True)
    footer_link.scroll_into_view_if_needed()
    footer_link.click()
    page.wait_for_load_state()
    assert page.locator("main h1").inner_text() == heading
    assert sideways_scroll(page) == ""
    assert_accessible(page)
    assert csp_errors(page) == []
