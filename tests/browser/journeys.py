"""Steps that several browser journeys share."""

from tests.factories import PASSWORD


def log_in(page, *, email: str, password: str = PASSWORD, language: str = "da", next_path: str = "") -> None:
    page.goto(f"/{language}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    submit(page)


def submit(page) -> None:
    """Press the form's main button (allauth's stage pages also carry a "Cancel" button)."""
    page.locator("main .form-actions button.button").first.click()
    page.wait_for_load_state()


def csp_errors(page) -> list[str]:
    """Console errors that Chromium logs when the Content Security Policy blocks something."""
    return [text for text in page.console_errors if "Content Security Policy" in text]


def staff_log_in(page, *, email: str = "signe@dlsc.example", language: str = "da"):
    """A superuser with an authenticator app logs in with password and TOTP code, as the admin requires."""
    from tests.factories import StaffFactory, staff_totp_activate, totp_code

    staff = StaffFactory(email=email, preferred_language=language)
    secret = staff_totp_activate(staff)
    log_in(page, language=language, email=staff.email)
    page.fill("input[name=code]", totp_code(secret))
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    return staff


def act_as(page, live_server, user) -> None:
    """Give the browser a session for `user`, made by the test client (no login form)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def png_bytes() -> bytes:
    """A 40 by 40 pixel PNG, as a logo upload."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "teal").save(buffer, "PNG")
    return buffer.getvalue()
