"""A frozen Redis (it accepts connections and never answers, as under SIGSTOP) holds no web request more than half
a second: the cache gives up quickly and fails open, and the broker is published to after the response."""

import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from newsletters.consent import CONSENT_TEXT_VERSION
from outbox.api import background_publishes_wait
from outbox.models import OutboxMessage
from tests.factories import PASSWORD, EventFactory, TopicFactory, UserFactory
from tests.support import services
from tests.support.frozen import FrozenServer
from tests.support.workers import broker_switch

pytestmark = pytest.mark.django_db(transaction=True)
BUDGET_SECONDS = 0.5


@pytest.fixture
def redis_freezer(settings):
    """Publishing goes to a queue of this test's own on the real Redis until freeze() points cache and broker at a
    socket that accepts and never answers."""
    from dlsc.celery import app

    services.require_postgres()
    broker_url = services.require_redis()
    queue = f"test-frozen-{uuid.uuid4().hex[:8]}"
    previous = {"url": app.conf.broker_url, "queue": app.conf.task_default_queue}
    broker_switch(url=broker_url, queue=queue)
    settings.OUTBOX_DELIVER = True
    frozen = FrozenServer().start()

    def freeze():
        broker_switch(url=frozen.url, queue=queue)
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": frozen.url}}

    yield freeze
    background_publishes_wait()
    broker_switch(**previous)
    frozen.stop()
    redis.Redis.from_url(broker_url).delete(queue)


def _event_signup():
    event = EventFactory(capacity=10)
    data = {"full_name": "Frida Frozen", "email": "frida@example.com", "organisation_name": "Is ApS", "consent": "on"}
    return f"/da/events/{event.slug}/", f"/da/events/{event.slug}/register/", data


def _newsletter_signup():
    TopicFactory(slug="general")
    data = {
        "email": "frida@example.com",
        "name": "Frida",
        "language": "da",
        "topics": ["general"],
        "consent": "on",
        "consent_text_version": CONSENT_TEXT_VERSION,
        "website": "",
    }
    return "/da/newsletter/", "/da/newsletter/", data


def _login():
    return "/da/accounts/login/", "/da/accounts/login/", {"login": UserFactory().email, "password": PASSWORD}


def _timed_post(client, prepare) -> tuple[int, float]:
    form_url, post_url, data = prepare()
    assert client.get(form_url).status_code == 200  # the visitor opens the form first, as a person does
    started = time.monotonic()
    response = client.post(post_url, data)
    return response.status_code, time.monotonic() - started


@pytest.fixture
def redis_calls(monkeypatch):
    """Every call the cache makes to Redis, by name (the fail-open cache calls RedisCache's methods)."""
    from django.core.cache.backends.redis import RedisCache

    calls = []
    for name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many"):
        original = getattr(RedisCache, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(RedisCache, name, counted)
    return calls


@pytest.mark.parametrize(
    ("prepare", "status", "mails"),
    [(_event_signup, 302, 1), (_newsletter_signup, 200, 1), (_login, 302, 0)],
    ids=["event-signup", "newsletter-signup", "login"],
)
def test_a_request_waits_at_most_half_a_second_on_a_frozen_redis(
    client, redis_freezer, redis_calls, prepare, status, mails
):
    """The wait is bounded by construction, and that is what is asserted: against a frozen Redis the request makes
    one call to it (then the cache leaves Redis alone), and one call waits at most the connect timeout plus the read
    timeout, which together stay under half a second. The request's time beyond a healthy one's is printed and
    checked only against a loose safety net: a loaded CI machine stretched 0.2 s of socket timeout to 0.62 s."""
    healthy_status, healthy = _timed_post(client, prepare)
    client.logout()
    OutboxMessage.objects.all().delete()
    redis_freezer()
    redis_calls.clear()
    frozen_status, frozen = _timed_post(client, prepare)
    print(f"{prepare.__name__}: {frozen:.3f} s frozen, {healthy:.3f} s healthy, Redis calls {redis_calls}")
    assert (healthy_status, frozen_status) == (status, status)
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED).count() == mails
    assert len(redis_calls) == 1
    options = settings.CACHES["default"]["OPTIONS"]
    assert options["socket_connect_timeout"] + options["socket_timeout"] < BUDGET_SECONDS
    assert frozen - healthy < 4 * BUDGET_SECONDS


def test_the_cache_gives_up_on_a_frozen_redis_once_and_then_leaves_it_alone(redis_freezer, redis_calls):
    """Counted, not timed: of three calls only the first goes to the frozen server (and pays its socket timeout);
    the other two are served from local memory at once."""
    redis_freezer()
    redis_calls.clear()
    started = time.monotonic()
    results = [cache.add("a", 1), cache.get("a"), cache.get("b", "missing")]
    elapsed = time.monotonic() - started
    assert results == [True, 1, "missing"]
    assert redis_calls == ["add"]
    assert cache.redis_skipped is True
    # A safety net only: one socket timeout, however slow the machine, is far below Redis's skip window.
    assert elapsed < cache.retry_after
