"""One branded layout, HTML and text, around every mail the system sends: each of our mail templates, allauth's
mails and newsletter campaigns."""

import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils.html import escape

from newsletters.campaigns import campaign_render
from outbox.api import mail_render
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
MAIL_TEMPLATES = sorted(
    str(path.relative_to(TEMPLATES))[: -len("_subject.txt")]
    for path in TEMPLATES.rglob("*/email/*_subject.txt")
    if not path.is_relative_to(TEMPLATES / "account")  # allauth's own mails: see the allauth test below
)
STARTS = datetime.datetime(2027, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
EVENT = SimpleNamespace(
    slug="demo-event",
    title="Matchmaking i Odense",
    starts_at=STARTS,
    ends_at=STARTS + datetime.timedelta(hours=3),
    venue_name="Odense",
    venue_address="Forskerparken 10",
    online_url="",
    cancellation_reason="",
)
SAMPLE_CONTEXT = {
    "event": EVENT,
    "meeting": SimpleNamespace(pk=7),
    "days": 7,
    "valid_days": 7,
    "name": "Anna",
    "title": EVENT.title,
    "when": STARTS,
    "expires": STARTS,
}


def footer(language: str) -> str:
    address = {"da": "Ole Maaløes Vej 3, 2200 København N", "en": "Ole Maaløes Vej 3, 2200 Copenhagen N, Denmark"}
    return f"\n-- \nDanish Life Science Cluster\n{address[language]}\n{settings.SITE_URL}/{language}/\n"


def test_every_mail_template_is_found():
    assert len(MAIL_TEMPLATES) == 27
    assert "newsletters/email/campaign" in MAIL_TEMPLATES


@pytest.mark.django_db
@pytest.mark.parametrize("template", MAIL_TEMPLATES)
@pytest.mark.parametrize("language", ["da", "en"])
def test_every_mail_template_renders_inside_the_layout(template, language):
    subject, body_text, body_html = mail_render(template=template, language=language, context=SAMPLE_CONTEXT)
    assert body_text.endswith(footer(language))
    assert body_text.count("\n-- \n") == 1
    assert body_html.startswith("<!doctype html>")
    assert f'<html lang="{language}">' in body_html
    assert f"<title>{escape(subject)}</title>" in body_html
    assert 'class="dlsc-mail"' in body_html
    assert body_html.count("<body") == 1


def test_a_text_only_mail_gets_its_html_part_from_its_text_with_links():
    _subject, _text, html = mail_render(
        template="members/email/invitation", language="en", context={"url": "https://x.example/accept/", "days": 1}
    )
    assert '<a href="https://x.example/accept/">https://x.example/accept/</a>' in html
    assert "expires in 1 day." in html


@pytest.mark.django_db
def test_allauths_mails_wear_the_layout(client):
    user = UserFactory(email="glemsom@example.com", preferred_language="da")
    client.post("/da/accounts/password/reset/", {"email": user.email})
    message = OutboxMessage.objects.get(to=user.email)
    assert message.body_text.endswith(footer("da"))
    assert 'class="dlsc-mail"' in message.body_html
    assert "/da/accounts/password/reset/key/" in message.body_html


@pytest.mark.django_db
def test_campaigns_wear_the_layout_once():
    campaign = CampaignFactory()
    rendered = campaign_render(
        campaign=campaign, language="en", unsubscribe_url="https://x.example/u/", preferences_url="https://x.example/p/"
    )
    assert rendered["body_text"].endswith(footer("en"))
    assert "Unsubscribe: https://x.example/u/" in rendered["body_text"]
    assert rendered["body_html"].count("<html") == 1
    assert 'class="dlsc-mail"' in rendered["body_html"]
    assert "<strong>reader</strong>" in rendered["body_html"]
    assert '<a href="https://x.example/u/" style="color:#0b5d57;">Unsubscribe</a>' in rendered["body_html"]
