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
