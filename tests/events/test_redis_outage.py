"""A sign-up while the broker is down: saved at once, answered quickly, mailed once Redis is back."""

import shutil
import subprocess
import time
import uuid

import pytest

from events.models import Registration
from outbox.api import background_publishes_wait
from outbox.delivery import outbox_sweep
from outbox.models import OutboxMessage
from tests.factories import EventFactory
from tests.support import services, workers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class RedisProcess:
    def __init__(self, port: int):
        self.port = port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
            if probe.stdout.strip() == "PONG":
                return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def sweep_until_published(*, timeout: float = 15.0) -> int:
    """What beat does every minute: sweep, and again, until the broker takes the backlog."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        published = outbox_sweep()["published"]
        if published:
            return published
        time.sleep(0.5)
    return 0


@pytest.fixture
def own_redis(settings):
    from dlsc.celery import app

    services.require_postgres()
    if not shutil.which("redis-server"):
        services.missing("this test needs redis-server on the PATH")
    redis = RedisProcess(services.free_port()).start()
    previous = {"url": app.conf.broker_url, "queue": app.conf.task_default_queue}
    queue = f"test-outage-{uuid.uuid4().hex[:8]}"
    # broker_switch also drops app.amqp, which remembers the default queue: with only the pools reset, a process
    # whose earlier test had published kept routing to that test's queue, and this test's worker never got the task.
    workers.broker_switch(url=f"redis://127.0.0.1:{redis.port}/0", queue=queue)
    settings.OUTBOX_DELIVER = True
    settings.OUTBOX_REQUEUE_AFTER_SECONDS = 0
    yield {"redis": redis, "queue": queue, "broker_url": app.conf.broker_url}
    workers.broker_switch(**previous)
    redis.stop()


def test_signup_while_redis_is_down_is_saved_answered_fast_and_mailed_later(client, own_redis, smtp_sink):
    event = EventFactory(capacity=10)
    own_redis["redis"].stop()

    started = time.monotonic()
    response = client.post(
        f"/en/events/{event.slug}/register/",
        {"full_name": "Olga Outage", "email": "olga@example.com", "organisation_name": "Down ApS", "consent": "on"},
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < 2.0
    assert Registration.objects.get().status == Registration.Status.CONFIRMED
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.QUEUED
    background_publishes_wait()  # the publish after the response found the broker down

    own_redis["redis"].start()
    env = workers.celery_env(
        broker_url=own_redis["broker_url"],
        queue=own_redis["queue"],
        extra={"EMAIL_URL": smtp_sink.url, "OUTBOX_DELIVER": "1"},
    )
    worker = workers.worker_start(env=env, concurrency=1)
    try:
        assert sweep_until_published() == 1
        try:
            received = smtp_sink.wait_for(1, timeout=30)
        except AssertionError as missing:
            # Say where the task went: the queues on the broker and the row's state.
            keys = subprocess.run(
                ["redis-cli", "-p", str(own_redis["redis"].port), "keys", "*"], capture_output=True, text=True
            ).stdout.split()
            row = OutboxMessage.objects.values("status", "attempts", "last_error").get()
            raise AssertionError(
                f"{missing}; broker keys {keys}, worker queue {own_redis['queue']}, row {row}"
            ) from None
    finally:
        worker.stop()
    assert received[0]["To"] == "olga@example.com"
    assert received[0]["Subject"].startswith("You are registered")
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
