"""Publishing a delivery never holds a request up for long, whatever state the broker is in."""

import socket
import time

import pytest

from outbox.api import mail_enqueue_rendered
from outbox.delivery import delivery_publish
from outbox.models import OutboxMessage
from tests.support import workers
from tests.support.services import free_port


@pytest.fixture
def broker_at(settings):
    """Point publishing at a given broker URL for the test; mail is published as in production."""
    from dlsc.celery import app

    previous = {"url": app.conf.broker_url, "queue": app.conf.task_default_queue}
    settings.OUTBOX_DELIVER = True

    def point(url):
        workers.broker_switch(url=url, queue="publish-test")

    yield point
    workers.broker_switch(**previous)


@pytest.fixture
def silent_broker():
    """A TCP server that accepts connections and never answers: a broker that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def _timed_publish() -> tuple[bool, float]:
    started = time.monotonic()
    published = delivery_publish(ids=[1])
    return published, time.monotonic() - started


def test_publishing_to_a_closed_broker_port_gives_up_at_once(broker_at):
    broker_at(f"redis://127.0.0.1:{free_port()}/0")
    delivery_publish(ids=[1])  # the first publish in a process loads the transport (up to 2 s): not what is timed
    published, elapsed = _timed_publish()
    assert published is False
    assert elapsed < 0.5


def test_publishing_to_a_broker_that_never_answers_gives_up_within_two_seconds(broker_at, silent_broker):
    broker_at(silent_broker)
    published, elapsed = _timed_publish()
    assert published is False
    assert elapsed < 2


@pytest.mark.django_db
def test_a_mail_whose_publish_failed_stays_queued_for_the_sweeper(broker_at, django_capture_on_commit_callbacks):
    broker_at(f"redis://127.0.0.1:{free_port()}/0")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = mail_enqueue_rendered(
            template="outbox_test/plain", to="ada@example.com", language="en", subject="Hello", body_text="Body\n"
        )
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.QUEUED, 0)
