"""GET /healthz: database, broker and outbox backlog; 200 while the database answers, 503 when it does not."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from outbox.api import mail_enqueue_rendered
from outbox.models import OutboxMessage
from tests.support import workers
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
Status = OutboxMessage.Status


def _mail(to: str, status: str, *, age_seconds: int = 0) -> None:
    message = mail_enqueue_rendered(
        template="outbox_test/plain", to=to, language="da", subject="Hej", body_text="Tekst\n"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status, created_at=timezone.now() - timedelta(seconds=age_seconds)
    )


@pytest.fixture
def closed_broker():
    """The broker URL points at a port where nothing listens."""
    from dlsc.celery import app

    previous = {"url": app.conf.broker_url, "queue": app.conf.task_default_queue}
    workers.broker_switch(url=f"redis://127.0.0.1:{free_port()}/0", queue="healthz")
    yield
    workers.broker_switch(**previous)


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_database_broker_and_the_exact_outbox_backlog(client, celery_queue):
    _mail("a@example.com", Status.QUEUED, age_seconds=120)
    _mail("b@example.com", Status.QUEUED)
    _mail("c@example.com", Status.RETRYING)
    _mail("d@example.com", Status.FAILED)
    _mail("e@example.com", Status.SENT, age_seconds=900)
    _mail("f@example.com", Status.HELD, age_seconds=3600)
    response = client.get("/healthz")
    assert response.status_code == 200
    state = response.json()
    assert (state["status"], state["database"]["ok"], state["broker"]["ok"]) == ("ok", True, True)
    oldest = state["outbox"].pop("oldest_waiting_seconds")
    assert state["outbox"] == {"queued": 2, "retrying": 1, "sending": 0, "failed": 1, "held": 1, "halted": None}
    assert 120 <= oldest <= 125


@pytest.mark.django_db
def test_healthz_with_the_broker_down_answers_200_within_two_seconds(client, closed_broker):
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    state = response.json()
    assert (state["status"], state["database"]["ok"], state["broker"]["ok"]) == ("degraded", True, False)
    assert state["broker"]["error"] == "OperationalError"
    assert elapsed < 2


@pytest.mark.django_db
def test_healthz_is_never_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_healthz_with_the_database_down_answers_503():
    """A separate process whose DATABASE_URL points at a port where no PostgreSQL listens."""
    script = (
        "import json; from django.test import Client; response = Client().get('/healthz'); "
        "print(json.dumps({'code': response.status_code, 'body': response.json()}))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/dlsc",
        "DEBUG": "1",
        "LOG_LEVEL": "CRITICAL",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] == 503
    assert (answer["body"]["status"], answer["body"]["database"]) == (
        "down",
        {"ok": False, "error": "OperationalError"},
    )
    assert "outbox" not in answer["body"]
