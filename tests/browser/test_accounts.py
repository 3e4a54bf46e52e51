"""Accounts in a real browser: sign-up with email verification, login and logout, staff MFA before the admin, the
admin under the strict CSP, and every allauth page in the site's layout, accessible, in both languages."""

import re

import pytest
from allauth.account.models import EmailAddress

from hubs.models import Hub
from outbox.models import OutboxMessage
from tests.browser.journeys import csp_errors, log_in, submit
from tests.factories import PASSWORD, StaffFactory, UserFactory, staff_totp_activate, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^\s]+/accounts/confirm-email/[^\s/]+/")


def test_sign_up_verify_log_in_and_log_out(page, live_server, assert_accessible):
    page.goto("/da/accounts/signup/")
    page.locator("#id_email").fill("ny.bruger@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    submit(page)
    page.wait_for_url("**/da/accounts/confirm-email/")
    assert page.locator("h1").inner_text() == "Bekræft din e-mailadresse"
    assert_accessible(page)

    link = LINK.search(OutboxMessage.objects.get(to="ny.bruger@example.com").body_text).group(0)
    page.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    assert_accessible(page)
    submit(page)
    page.wait_for_url("**/da/accounts/login/")
    assert EmailAddress.objects.get(email="ny.bruger@example.com").verified is True

    log_in(page, email="ny.bruger@example.com")
    page.wait_for_url("**/da/account/")
    assert page.locator("h1").inner_text() == "Min konto"
    assert_accessible(page)

    page.locator(".header-tools button[type=submit]").click()
    page.wait_for_url("**/da/")
    assert page.locator(".header-tools a.button").inner_text() == "Log ind"
    assert page.console_errors == []


def test_unverified_user_cannot_log_in_before_verifying(page):
    UserFactory(email="unverified@example.com", verified=False)
    log_in(page, email="unverified@example.com", language="en")
    page.wait_for_url("**/en/accounts/confirm-email/")
    assert page.locator("h1").inner_text() == "Verify Your Email Address"


def test_staff_without_mfa_is_sent_to_set_it_up_and_then_reaches_the_admin(page, assert_accessible):
    StaffFactory(email="staff@example.com")
    log_in(page, email="staff@example.com", next_path="/da/admin/")
    # Straight from the password to the set-up: no second request for the password just given.
    page.wait_for_url("**/da/accounts/2fa/totp/activate/")
    assert page.locator(".message-warning").inner_text() == (
        "Medarbejdere skal opsætte to-faktor-autentificering, før de kan bruge administrationen."
    )
    assert_accessible(page)
    assert csp_errors(page) == []

    secret = page.locator("#authenticator_secret").input_value()
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)

    # Back where they were going: the admin.
    page.wait_for_url("**/da/admin/")
    assert page.locator("#site-name").inner_text() == "DLSC-administration"
    assert csp_errors(page) == []
    assert_accessible(page)

    page.goto("/da/admin/hubs/hub/")
    assert page.locator("#result_list tbody tr").count() == 4
    assert csp_errors(page) == []
    assert_accessible(page)

    page.goto(f"/da/admin/hubs/hub/{Hub.objects.get(slug='odense').pk}/change/")
    assert page.locator("#id_name_da").input_value() == "Odense"
    assert page.locator("#id_description_en").input_value().startswith("The hub for Southern Denmark")
    assert csp_errors(page) == []
    assert_accessible(page)
    assert page.console_errors == []


def test_staff_with_mfa_logs_in_with_a_code_and_reaches_the_admin(page):
    staff = StaffFactory(email="staff@example.com")
    secret = staff_totp_activate(staff)
    log_in(page, email="staff@example.com", language="en", next_path="/en/admin/")
    page.wait_for_url("**/en/accounts/2fa/authenticate/")
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)
    page.wait_for_url("**/en/admin/")
    assert page.locator("#site-name").inner_text() == "DLSC administration"
    assert page.console_errors == []


ANONYMOUS_PAGES = [
    "accounts/login/",
    "accounts/signup/",
    "accounts/password/reset/",
    "accounts/password/reset/done/",
    "accounts/password/reset/key/1-forged-token/",
    "accounts/confirm-email/forged-key/",
]
MEMBER_PAGES = [
    "account/",
    "account/profile/",
    "accounts/email/",
    "accounts/password/change/",
    "accounts/2fa/",
    "accounts/2fa/totp/activate/",
    "accounts/reauthenticate/",
    "accounts/logout/",
]
MFA_PAGES = [
    "accounts/2fa/",
    "accounts/2fa/totp/deactivate/",
    "accounts/2fa/recovery-codes/",
    "accounts/2fa/recovery-codes/generate/",
    "accounts/2fa/reauthenticate/",
]


def reauthenticate(page, *, language: str) -> None:
    """allauth asks for the password again before account security pages; answer it once for the loop."""
    page.goto(f"/{language}/accounts/reauthenticate/")
    page.locator("#id_password").fill(PASSWORD)
    submit(page)


def check_pages(page, assert_accessible, *, language: str, paths: list[str]) -> None:
    for path in paths:
        page.goto(f"/{language}/{path}")
        assert page.locator("html").get_attribute("lang") == language, path
        assert page.locator(".site-header .brand").is_visible(), path
        assert page.locator("main h1").count() == 1, path
        assert_accessible(page)
        assert csp_errors(page) == [], path


@pytest.mark.parametrize("language", ["da", "en"])
def test_anonymous_account_pages_wear_the_layout_and_are_accessible(page, assert_accessible, language):
    check_pages(page, assert_accessible, language=language, paths=ANONYMOUS_PAGES)


@pytest.mark.parametrize("language", ["da", "en"])
def test_member_account_pages_wear_the_layout_and_are_accessible(page, assert_accessible, language):
    UserFactory(email="member@example.com", preferred_language=language)
    log_in(page, email="member@example.com", language=language)
    reauthenticate(page, language=language)
    check_pages(page, assert_accessible, language=language, paths=MEMBER_PAGES)


@pytest.mark.parametrize("language", ["da", "en"])
def test_mfa_pages_wear_the_layout_and_are_accessible(page, assert_accessible, language):
    user = UserFactory(email="member@example.com", preferred_language=language)
    secret = staff_totp_activate(user)
    log_in(page, email="member@example.com", language=language)
    page.wait_for_url(f"**/{language}/accounts/2fa/authenticate/")
    assert page.locator(".site-header .brand").is_visible()
    assert_accessible(page)
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)
    page.wait_for_url(f"**/{language}/account/")
    reauthenticate(page, language=language)
    check_pages(page, assert_accessible, language=language, paths=MFA_PAGES)


def test_invalid_login_shows_a_translated_error_with_status_400(page, assert_accessible):
    page.goto("/en/accounts/login/")
    page.locator("#id_login").fill("not-an-email")
    page.locator("#id_password").fill("whatever")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        submit(page)
    assert posted.value.status == 400
    assert page.locator(".field-invalid .errorlist").first.inner_text() == "Enter a valid email address."
    assert_accessible(page)


def test_password_reset_from_the_mailed_link(page, live_server, assert_accessible):
    user = UserFactory(email="glemsom@example.com", preferred_language="en")
    page.goto("/da/accounts/password/reset/")
    page.locator("#id_email").fill(user.email)
    submit(page)
    page.wait_for_url("**/da/accounts/password/reset/done/")

    message = OutboxMessage.objects.get(to=user.email)
    assert message.language == "en"
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", message.body_text).group(0)
    page.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    page.wait_for_url("**/accounts/password/reset/key/*-set-password/")
    assert_accessible(page)
    assert csp_errors(page) == []
    page.locator("#id_password1").fill("a-brand-new-passphrase-77")
    page.locator("#id_password2").fill("a-brand-new-passphrase-77")
    submit(page)
    page.wait_for_url("**/accounts/password/reset/key/done/")
    assert_accessible(page)

    log_in(page, email=user.email, password="a-brand-new-passphrase-77")
    page.wait_for_url("**/da/account/")
