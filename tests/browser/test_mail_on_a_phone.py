"""A mail read on a 320 px phone never scrolls sideways, even with a signed link longer than the screen is wide
(a registration's link carries a signature with no place to break)."""

import re

import pytest

from events import services
from outbox.models import OutboxMessage
from tests.factories import EventFactory
from tests.support.mail import rendered

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("language", ["da", "en"])
def test_a_confirmation_with_its_signed_link_fits_a_320_px_phone(browser, language):
    event = EventFactory(price_dkk=450, venue_address="Ole Maaløes Vej 3, 2200 København N")
    registration = services.registration_create(
        event=event, full_name="Gry Gæst", email="gry@example.com", language=language
    )
    mail = rendered(OutboxMessage.objects.get(to=registration.email))
    # The signature carries the second it was made, so the link is found in the mail and read back, not rebuilt.
    prefix = services.registration_manage_url(registration).rsplit("/", 2)[0] + "/"
    links = set(re.findall(re.escape(prefix) + r"([^/\"]+)/", mail.body_html))
    assert len(links) == 1
    assert services.registration_from_token(links.pop()).pk == registration.pk
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.set_content(mail.body_html)
    assert page.evaluate("document.documentElement.scrollWidth") == 320
    context.close()
