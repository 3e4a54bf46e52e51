"""Fixtures shared by every test: real services (SMTP sink, Celery workers, Chromium) and clean state."""

import os
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import translation

from tests.support import services
from tests.support.smtp import SmtpSink
from tests.support.static import static_scan_share

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
static_scan_share()
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


# A test that uses one of these fixtures gets the mark, so `make test-fast` (-m "not browser and not worker") leaves it
# out without anyone having to remember to mark it.
MARKS_BY_FIXTURE = {
    "browser": {"browser", "page", "live_server"},
    "worker": {"celery_worker"},
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        used -= set(callspec.params) if callspec else set()  # a parameter named `page` is not the browser's page
        for mark, fixtures in MARKS_BY_FIXTURE.items():
            if used & fixtures:
                item.add_marker(mark)


@pytest.fixture(autouse=True)
def _clean_state(settings):
    """Rate limits and cached values must not leak between tests; mail is not published to a broker unless a
    test starts a worker for it."""
    settings.OUTBOX_DELIVER = False
    cache.clear()
    from events.selectors import signup_events_forget

    signup_events_forget()  # the events and ids a process keeps for sign-ups
    # A test that activates a language (a request does, through LocaleMiddleware) must not hand it to the next.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    """Without PostgreSQL, a transactional test (browser, worker) empties every table when it ends, so the next one
    starts without the regions, hubs, segments and partners that data migrations load: it gets them again before it
    runs. On PostgreSQL the reference snapshot puts them back when the test ends (django_db_setup)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server", "celery_worker"} & set(request.fixturenames)
    )
    if transactional and not _SNAPSHOT:
        from tests.support.reference_data import reference_data_load

        request.getfixturevalue("transactional_db")
        reference_data_load()


@pytest.fixture
def staff_client(client):
    """A client logged in as a superuser with a second factor on record, as the admin requires."""
    from tests.factories import StaffFactory, staff_totp_activate

    staff = StaffFactory()
    staff_totp_activate(staff)
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server; the default mailer points at it for the duration of the test."""
    sink = SmtpSink().start()
    settings.MAILERS = {"default": settings_mailer(sink.url)}
    yield sink
    sink.stop()


def settings_mailer(url: str) -> dict:
    from dlsc.settings import mailer_from_url

    return mailer_from_url(url)


@pytest.fixture
def celery_queue(settings):
    """A broker queue of this test's own on the real Redis, so stray tasks of other tests never reach its workers.
    Publishing from the test process goes to the same queue."""
    from dlsc.celery import app
    from tests.support.workers import broker_switch

    broker_url = services.require_redis()
    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous = {"url": app.conf.broker_url, "queue": app.conf.task_default_queue}
    broker_switch(url=broker_url, queue=queue)
    settings.OUTBOX_DELIVER = True
    yield {"queue": queue, "broker_url": broker_url}
    broker_switch(**previous)


@pytest.fixture
def celery_worker(celery_queue, smtp_sink, transactional_db):
    """Start real Celery workers on the test database; they send to the SMTP sink. Call it to start one."""
    from tests.support import workers

    services.require_postgres()
    started = []

    def start(*, concurrency: int = 1, extra_env: dict | None = None):
        env = workers.celery_env(
            broker_url=celery_queue["broker_url"],
            queue=celery_queue["queue"],
            extra={"EMAIL_URL": smtp_sink.url, "OUTBOX_DELIVER": "1", **(extra_env or {})},
        )
        worker = workers.worker_start(env=env, concurrency=concurrency)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def browser():
    services.require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=services.CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="da-DK", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """Serious and critical accessibility violations on the page, as axe-core reports them."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {"id": violation["id"], "impact": violation["impact"], "nodes": [n["target"] for n in violation["nodes"]]}
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def assert_accessible():
    def check(page):
        violations = axe_violations(page)
        assert violations == [], f"axe-core on {page.url}: {violations}"

    return check


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


_SNAPSHOT = []  # the ReferenceSnapshot of this session's database, once it is taken (PostgreSQL only)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Start from what migrations load, whatever an earlier run on a reused database left: flush, load the reference
    data again, and on PostgreSQL keep that state as the snapshot that transactional tests are restored to."""
    from django.core.management import call_command
    from django.db import connection
    from django.test import TransactionTestCase

    from tests.support.reference_data import ReferenceSnapshot, reference_data_load

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            reference_data_load()
            yield
            return
        call_command("flush", verbosity=0, interactive=False)
        reference_data_load()
        snapshot = ReferenceSnapshot(connection)
        snapshot.take()
    flush = TransactionTestCase._fixture_teardown

    def restore(test_case):
        if test_case.available_apps is not None or test_case.serialized_rollback:
            return flush(test_case)
        return snapshot.restore()

    _SNAPSHOT.append(snapshot)
    TransactionTestCase._fixture_teardown = restore
    yield
    TransactionTestCase._fixture_teardown = flush
    _SNAPSHOT.clear()
