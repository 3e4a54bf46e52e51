"""The security baseline: check --deploy is clean with production values, and the headers and cookies it promises."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides) -> dict:
    # A clean environment as a server has it: nothing the test run sets (DJANGO_ALLOW_ASYNC_UNSAFE) leaks in.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL") if k in os.environ}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "portal.example.org",
            "SITE_URL": "https://portal.example.org",
            "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
            "LOG_LEVEL": "CRITICAL",
        }
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_check_deploy_reports_nothing_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env=production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


@pytest.fixture(scope="module")
def production_response(django_db_setup, django_db_blocker):
    """Headers and cookies of the login page as a production process serves it over HTTPS."""
    from django.db import connection

    database = dict(connection.settings_dict)
    script = (
        "import json; from django.test import Client; "
        "response = Client(HTTP_HOST='portal.example.org').get('/en/accounts/login/', secure=True); "
        "print(json.dumps({'code': response.status_code, 'headers': dict(response.headers), "
        "'cookies': {name: {'secure': bool(c['secure']), 'httponly': bool(c['httponly']), "
        "'samesite': c['samesite']} for name, c in response.cookies.items()}}))"
    )
    env = production_env()
    if connection.vendor == "postgresql":
        from tests.support.workers import test_database_url

        env["DATABASE_URL"] = test_database_url()
    else:
        env["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload(production_response):
    assert production_response["code"] == 200
    assert production_response["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_csrf_cookie_is_secure(production_response):
    assert production_response["cookies"]["csrftoken"]["secure"] is True


def test_production_redirects_plain_http_to_https_except_healthz():
    """No database answers here: /healthz must still be reached over plain HTTP (and report 503)."""
    script = (
        "from django.test import Client; client = Client(HTTP_HOST='portal.example.org'); "
        "print(client.get('/en/').status_code, client.get('/en/')['Location'], client.get('/healthz').status_code)"
    )
    env = production_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{_closed_port()}/none")
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["301", "https://portal.example.org/en/", "503"]


def _closed_port() -> int:
    from tests.support.services import free_port

    return free_port()


@pytest.mark.django_db
def test_responses_carry_a_strict_content_security_policy(client):
    header = client.get("/en/")["Content-Security-Policy"]
    directives = csp_directives(header)
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header


@pytest.mark.django_db
def test_responses_carry_referrer_policy_and_framing_headers(client):
    response = client.get("/en/")
    assert (
        response["Referrer-Policy"],
        response["X-Frame-Options"],
        response["X-Content-Type-Options"],
        response["Cross-Origin-Opener-Policy"],
    ) == ("same-origin", "DENY", "nosniff", "same-origin")


def test_rate_limits_are_kept_in_redis_when_it_is_configured_and_in_local_memory_otherwise():
    cache = settings.CACHES["default"]
    if settings.REDIS_URL:
        assert cache["BACKEND"] == "dlsc.cache.FailOpenRedisCache"
        assert cache["LOCATION"] == settings.REDIS_CACHE_URL
    else:
        assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.django_db
def test_password_reset_for_one_address_is_rate_limited_on_the_cache(client):
    url = "/en/accounts/password/reset/"
    codes = [client.post(url, {"email": "someone@example.com"}).status_code for _ in range(6)]
    assert codes == [302, 302, 302, 302, 302, 429]
