"""EMAIL_URL becomes Django 6.1's MAILERS entry: SMTP with its options, or a backend without a server."""

import pytest

from dlsc.settings import mailer_from_url


def test_an_smtp_url_with_starttls_carries_host_port_credentials_and_tls():
    assert mailer_from_url("smtp+tls://mailer:s3cret@smtp.example.org:587") == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "smtp.example.org",
            "port": 587,
            "username": "mailer",
            "password": "s3cret",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 20,
        },
    }


def test_an_smtp_ssl_url_uses_implicit_tls():
    options = mailer_from_url("smtp+ssl://smtp.example.org:465")["OPTIONS"]
    assert (options["use_ssl"], options["use_tls"], options["port"]) == (True, False, 465)


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("console://", "django.core.mail.backends.console.EmailBackend"),
        ("locmem://", "django.core.mail.backends.locmem.EmailBackend"),
        ("dummy://", "django.core.mail.backends.dummy.EmailBackend"),
    ],
)
def test_serverless_schemes_name_their_backend(url, backend):
    assert mailer_from_url(url) == {"BACKEND": backend}
