"""allauth's forms and links answer bad input with a clear, translated message and a 4xx, never a 500."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from accounts.models import User
from tests.factories import PASSWORD, UserFactory, staff_totp_activate

pytestmark = pytest.mark.django_db

LONG_EMAIL = "a" * 400 + "@example.com"


def test_signup_with_malformed_email_answers_400_in_danish(client):
    response = client.post(
        "/da/accounts/signup/", {"email": "not-an-email", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 400
    assert "Indtast en gyldig e-mail-adresse." in response.text
    assert User.objects.count() == 0


def test_signup_with_malformed_email_answers_400_in_english(client):
    response = client.post(
        "/en/accounts/signup/", {"email": "not-an-email", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert User.objects.count() == 0


def test_signup_with_very_long_email_answers_400(client):
    response = client.post("/en/accounts/signup/", {"email": LONG_EMAIL, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert User.objects.count() == 0


def test_signup_with_very_long_password_answers_400(client):
    long_password = "x" * 10_000
    response = client.post(
        "/en/accounts/signup/", {"email": "new@example.com", "password1": long_password, "password2": "y"}
    )
    assert response.status_code == 400
    assert "You must type the same password each time." in response.text
    assert User.objects.count() == 0


def test_signup_with_a_wrong_csrf_token_answers_a_translated_403(client):
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/da/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD, "csrfmiddlewaretoken": "forged"},
    )
    assert response.status_code == 403
    assert "Formularen er udløbet eller blev ikke sendt fra dette websted" in response.text
    assert User.objects.count() == 0


def test_login_with_malformed_email_answers_400(client):
    response = client.post("/en/accounts/login/", {"login": "not an email", "password": "whatever"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text


def test_login_with_very_long_values_answers_400(client):
    response = client.post("/en/accounts/login/", {"login": LONG_EMAIL, "password": "p" * 10_000})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text


def test_login_with_wrong_password_answers_400_in_danish(client):
    user = UserFactory()
    response = client.post("/da/accounts/login/", {"login": user.email, "password": "wrong-password"})
    assert response.status_code == 400
    assert "Den angivne e-mailadresse og/eller adgangskode er ikke korrekt." in response.text
    assert "_auth_user_id" not in client.session


def test_login_after_too_many_failures_answers_429(client):
    user = UserFactory()
    statuses = [
        client.post("/en/accounts/login/", {"login": user.email, "password": "wrong"}).status_code for _ in range(6)
    ]
    assert statuses == [400, 400, 400, 400, 400, 429]


@pytest.mark.parametrize("host", ["LOCALHOST", "localhost.", "127.0.0.1.", "127.0.0.1:7777"])
def test_login_lockout_holds_whatever_host_header_the_request_carries(client, host):
    """allauth keyed the per-account lock on the request's Host: another spelling of the same host checked the
    password again and, with the right one, logged in while locked."""
    user = UserFactory()
    for _ in range(5):
        client.post("/en/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD}, HTTP_HOST=host)
    assert (response.status_code, "_auth_user_id" in client.session) == (429, False)


def test_login_throttle_message_is_translated(client):
    user = UserFactory()
    for _ in range(5):
        client.post("/da/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/da/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Der er for mange mislykkede logonforsøg. Prøv igen senere." in response.text


def test_signup_rate_limit_answers_429_with_a_translated_page(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    for number in range(2):
        client.post(
            "/da/accounts/signup/",
            {"email": f"person{number}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    response = client.post(
        "/da/accounts/signup/", {"email": "third@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 429
    assert "For mange forsøg" in response.text
    assert not User.objects.filter(email="third@example.com").exists()


def test_forged_email_confirmation_key_answers_404_with_a_translated_page(client):
    response = client.get("/da/accounts/confirm-email/forged-key-123/")
    assert response.status_code == 404
    assert "Bekræft e-mailadresse" in response.text
    assert "Dette link til bekræftelse af e-mail er udløbet eller ugyldigt" in response.text


def test_posting_a_forged_email_confirmation_key_answers_404_and_verifies_nothing(client):
    user = UserFactory(verified=False)
    response = client.post("/en/accounts/confirm-email/forged-key-123/")
    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert EmailAddress.objects.get(user=user).verified is False


def test_forged_password_reset_token_answers_400_with_a_translated_page(client):
    user = UserFactory()
    response = client.get(f"/da/accounts/password/reset/key/{user.pk:x}-forged-token/")
    assert response.status_code == 400
    assert "Ugyldigt token" in response.text


def test_password_reset_with_malformed_email_answers_400(client):
    response = client.post("/en/accounts/password/reset/", {"email": "nope"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text


def test_password_reset_answers_the_same_for_known_and_unknown_emails(client):
    user = UserFactory()
    known = client.post("/en/accounts/password/reset/", {"email": user.email})
    unknown = client.post("/en/accounts/password/reset/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (302, "/en/accounts/password/reset/done/")
    assert (unknown.status_code, unknown["Location"]) == (302, "/en/accounts/password/reset/done/")


def test_signup_with_a_known_email_answers_like_a_new_one(client):
    user = UserFactory()
    response = client.post("/en/accounts/signup/", {"email": user.email, "password1": PASSWORD, "password2": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/confirm-email/")
    assert User.objects.count() == 1


def test_unknown_page_answers_404_in_english(client):
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.text


def test_wrong_code_at_the_second_factor_answers_400_and_does_not_log_in(client):
    user = UserFactory()
    staff_totp_activate(user)
    response = client.post("/da/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/da/accounts/2fa/authenticate/")
    response = client.post("/da/accounts/2fa/authenticate/", {"code": "000000"})
    assert response.status_code == 400
    assert "Forkert kode." in response.text
    assert "_auth_user_id" not in client.session


def test_wrong_code_when_activating_an_authenticator_answers_400(client):
    user = UserFactory()
    client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/en/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.post("/en/accounts/2fa/totp/activate/", {"code": "not-a-code"})
    assert response.status_code == 400
    assert "Incorrect code." in response.text
    assert Authenticator.objects.filter(user=user).count() == 0
