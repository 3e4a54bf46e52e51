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


# The elements that reach past the viewport's right edge, named, so that a failure says what is too wide.
_WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
    .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .slice(0, 5)
    .map((el) => `${el.tagName}.${el.className}: ${Math.round(el.getBoundingClientRect().right)}`)"""

_SETTLED = "() => document.fonts.ready.then(() => new Promise((done) => requestAnimationFrame(() => setTimeout(done))))"


def sideways_scroll(page) -> str:
    """'' when the page fits its viewport, else how wide it is and which elements stick out. Measured as a reader
    sees the page: once the web fonts have arrived and a frame has been laid out. On a loaded machine a page was
    measured 21 px too wide twice, with nothing sticking out of it when measured again; a width that is still wrong
    after a second look, and the elements that cause it, are what a failure reports."""
    viewport = page.evaluate("document.documentElement.clientWidth")
    page.evaluate(_SETTLED)
    if page.evaluate("document.documentElement.scrollWidth") <= viewport:
        return ""
    page.wait_for_timeout(300)
    page.evaluate(_SETTLED)
    width = page.evaluate("document.documentElement.scrollWidth")
    return f"scrolls sideways ({width} px): {page.evaluate(_WIDER_THAN_VIEWPORT)}" if width > viewport else ""
