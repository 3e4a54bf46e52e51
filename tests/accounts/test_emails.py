"""allauth's mails go into the outbox in the recipient's language, and the verification link in them works."""

import re

import pytest
from allauth.account.models import EmailAddress

from outbox.models import OutboxMessage
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/accounts/confirm-email/[^\s/]+/")


def signup(client, *, language: str, email: str):
    return client.post(f"/{language}/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def test_signup_in_danish_queues_a_danish_verification_mail(client):
    signup(client, language="da", email="dansk@example.com")
    message = OutboxMessage.objects.get(to="dansk@example.com")
    assert (message.template, message.language) == ("account/email/email_confirmation_signup", "da")
    assert message.subject == "[DLSC] Bekræft venligst din e-mailadresse"


def test_signup_in_english_queues_an_english_verification_mail(client):
    signup(client, language="en", email="english@example.com")
    message = OutboxMessage.objects.get(to="english@example.com")
    assert (message.template, message.language) == ("account/email/email_confirmation_signup", "en")
    assert message.subject == "[DLSC] Please Confirm Your Email Address"


def test_signup_keeps_the_page_language_as_the_preferred_language(client):
    signup(client, language="en", email="english@example.com")
    assert EmailAddress.objects.get(email="english@example.com").user.preferred_language == "en"


def test_verification_link_from_the_outbox_verifies_the_address(client):
    signup(client, language="da", email="dansk@example.com")
    link = LINK.search(OutboxMessage.objects.get(to="dansk@example.com").body_text).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    response = client.post(f"/{path}")
    assert (response.status_code, response["Location"]) == (302, "/da/accounts/login/")
    assert EmailAddress.objects.get(email="dansk@example.com").verified is True


def test_password_reset_mail_follows_the_users_language_not_the_pages(client):
    user = UserFactory(preferred_language="en")
    client.post("/da/accounts/password/reset/", {"email": user.email})
    message = OutboxMessage.objects.get(to=user.email)
    assert (message.language, message.subject) == ("en", "[DLSC] Reset your password")


def test_password_reset_mail_for_a_danish_user_is_danish(client):
    user = UserFactory(preferred_language="da")
    client.post("/en/accounts/password/reset/", {"email": user.email})
    message = OutboxMessage.objects.get(to=user.email)
    assert (message.language, message.subject) == ("da", "[DLSC] Nulstil din adgangskode")


def test_password_reset_for_an_unknown_address_tells_its_owner_in_the_page_language(client):
    client.post("/da/accounts/password/reset/", {"email": "nobody@example.com"})
    message = OutboxMessage.objects.get(to="nobody@example.com")
    assert (message.template, message.language, message.subject) == (
        "account/email/unknown_account",
        "da",
        "[DLSC] Ukendt konto",
    )


def test_account_mails_greet_and_sign_off_with_the_clusters_name(client, settings):
    settings.SITE_URL = "https://portal.dlsc.example"
    signup(client, language="da", email="dansk@example.com")
    body = OutboxMessage.objects.get(to="dansk@example.com").body_text
    assert body.startswith("Hej fra Danish Life Science Cluster!\n")
    own, layout = body.split("\n\n-- \n")
    assert own.endswith("Tak fordi du bruger Danish Life Science Cluster!\nportal.dlsc.example")
    assert (
        layout == "Danish Life Science Cluster\nOle Maaløes Vej 3, 2200 København N\nhttps://portal.dlsc.example/da/\n"
    )
