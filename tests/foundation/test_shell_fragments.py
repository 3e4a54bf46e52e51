"""The main navigation and the footer depend on nothing but the language and whether the visitor is signed in, so
each is rendered once per process for each pair and reused. A page never shows another language's or another
state's navigation, and a repeat visit reverses none of their URLs again."""

import django.urls
import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FOOTER_ACCOUNT = {
    ("da", False): '<li><a href="/da/accounts/login/">Log ind</a></li>\n'
    '            <li><a href="/da/accounts/signup/">Opret en konto</a></li>',
    ("en", False): '<li><a href="/en/accounts/login/">Log in</a></li>\n'
    '            <li><a href="/en/accounts/signup/">Create an account</a></li>',
    ("da", True): '<li><a href="/da/account/">Min konto</a></li>',
    ("en", True): '<li><a href="/en/account/">My account</a></li>',
}
NAV_EVENTS = {
    "da": '<li><a href="/da/events/">Arrangementer</a></li>',
    "en": '<li><a href="/en/events/">Events</a></li>',
}


@pytest.fixture
def reversals(monkeypatch):
    """The URLs the {% url %} tag reverses (it imports django.urls.reverse as it renders)."""
    calls = []
    original = django.urls.reverse

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(django.urls, "reverse", counted)
    return calls


def test_each_language_and_state_gets_its_own_navigation_and_footer(client):
    pages = {}
    for signed_in in (False, True, False):
        if signed_in:
            client.force_login(UserFactory())
        else:
            client.logout()
        for language in ("da", "en", "da"):
            pages[language, signed_in] = client.get(f"/{language}/hubs/").content.decode()
            other = "en" if language == "da" else "da"
            page = pages[language, signed_in]
            assert FOOTER_ACCOUNT[language, signed_in] in page
            assert FOOTER_ACCOUNT[language, not signed_in] not in page
            assert FOOTER_ACCOUNT[other, signed_in] not in page
            assert NAV_EVENTS[language] in page and NAV_EVENTS[other] not in page


def test_a_repeat_visit_reverses_only_the_urls_outside_the_cached_fragments(client, reversals):
    client.force_login(UserFactory())
    client.get("/da/hubs/")
    first = list(reversals)
    reversals.clear()
    client.get("/da/hubs/")
    assert "events:list" in first and "pages:imprint" in first
    # The brand's home link and the signed-in member's account and log-out links; the hubs page's own links.
    assert "events:list" not in reversals and "pages:imprint" not in reversals
    assert reversals[:3] == ["home", "accounts:portal", "account_logout"]
    assert len(first) - len(reversals) == 13
