"""With the cache's Redis stopped, every page still answers: reads miss, rate limits count in local memory."""

import pytest
from django.core.cache import cache

from accounts.models import User
from tests.factories import PASSWORD, EventFactory, UserFactory
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_redis_stopped(settings):
    """The cache points at a redis-server of this test's own, which is stopped: nothing listens on its port."""
    server = RedisServer().start()
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": server.url},
    }
    cache.set("probe", 1)
    assert cache.get("probe") == 1
    server.stop()
    return server


def test_login_signup_reset_directory_and_event_signup_answer_while_the_cache_is_down(client, cache_redis_stopped):
    user = UserFactory()
    event = EventFactory(capacity=10)

    login = client.post("/da/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.logout()
    signup = client.post(
        "/da/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    client.logout()
    reset = client.post("/da/accounts/password/reset/", {"email": user.email})
    directory = client.get("/da/members/")
    event_signup = client.post(
        f"/da/events/{event.slug}/register/",
        {"full_name": "Olga Outage", "email": "olga@example.com", "organisation_name": "Down ApS", "consent": "on"},
    )

    assert [login.status_code, signup.status_code, reset.status_code, directory.status_code] == [302, 302, 302, 200]
    assert event_signup.status_code == 302
    assert User.objects.filter(email="new@example.com").exists()


def test_failed_logins_are_still_limited_in_local_memory_while_the_cache_is_down(client, cache_redis_stopped):
    user = UserFactory()
    statuses = [
        client.post("/en/accounts/login/", {"login": user.email, "password": "wrong"}).status_code for _ in range(6)
    ]
    assert statuses == [400, 400, 400, 400, 400, 429]
