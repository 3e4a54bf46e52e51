"""The site shell in a real browser: home page in both languages, the switcher, a phone-sized screen, hub pages."""

from pathlib import Path

import pytest

from tests.browser.journeys import csp_errors, sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-home.png"


def test_home_page_in_danish(page, assert_accessible):
    from datetime import timedelta

    from django.utils import timezone

    from hubs.models import Hub
    from tests.factories import EventFactory

    soon = timezone.now() + timedelta(days=9)
    EventFactory(
        title_da="Meet and match: sundhedsinnovation",
        kind="matchmaking",
        hub=Hub.objects.get(slug="odense"),
        starts_at=soon,
        capacity=80,
    )
    EventFactory(title_da="Fra forskning til forretning", kind="conference", starts_at=soon + timedelta(days=12))
    EventFactory(title_da="Velfærdsteknologi i kommunerne", kind="workshop", starts_at=soon + timedelta(days=20))
    page.goto("/da/")
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.locator("h1").inner_text() == "Mød hinanden og find match i dansk life science"
    assert page.locator(".section-head:has(#hubs-heading) a").inner_text() == "Alle hubs"
    assert page.locator(".hub-card h3 a").all_inner_texts() == ["København", "Aarhus", "Odense", "Aalborg"]
    assert page.locator("#upcoming-heading").inner_text() == "Kommende arrangementer"
    assert_accessible(page)
    assert page.console_errors == []
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_home_page_in_english(page, assert_accessible):
    page.goto("/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Meet and match in Danish life science"
    assert page.locator(".hub-card h3 a").all_inner_texts() == ["Copenhagen", "Aarhus", "Odense", "Aalborg"]
    assert_accessible(page)
    assert page.console_errors == []


def test_language_switcher_keeps_you_on_the_same_page(page):
    page.goto("/da/hubs/odense/")
    page.locator(".language-switcher a[hreflang=en]").click()
    page.wait_for_url("**/en/hubs/odense/")
    assert page.locator("h1").inner_text() == "Odense"
    assert page.locator(".main-nav a").first.inner_text() == "Hubs"
    assert page.locator(".language-switcher .current-language").inner_text() == "EN"


def test_phone_layout_keeps_navigation_and_login_reachable(browser, live_server, assert_accessible):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740}, locale="da-DK")
    phone = context.new_page()
    try:
        phone.goto("/da/")
        assert sideways_scroll(phone) == ""
        assert phone.locator(".main-nav a").first.is_visible()
        assert phone.locator(".header-tools a.button").inner_text() == "Log ind"
        assert phone.locator(".header-tools a.button").is_visible()
        assert_accessible(phone)
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/da/hubs/", "/en/hubs/", "/da/hubs/copenhagen/", "/en/hubs/aalborg/"])
def test_hub_pages_are_accessible_and_csp_clean(page, assert_accessible, path):
    page.goto(path)
    assert page.locator(".site-header").is_visible()
    assert_accessible(page)
    assert csp_errors(page) == []


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/da/findes-ikke/", "Vi kunne ikke finde siden"), ("/en/nope/", "We could not find that page")],
)
def test_not_found_page_wears_the_site_layout(page, assert_accessible, path, heading):
    response = page.goto(path)
    assert response.status == 404
    assert page.locator("h1").inner_text() == heading
    assert page.locator(".site-header").is_visible()
    assert_accessible(page)
