"""Real Celery worker and beat processes for tests, against the test database and a broker of the test's choosing."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database this test runs on, for processes outside the test (workers, gunicorn)."""
    params = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("worker processes need the test database on PostgreSQL")
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


class CeleryProcess:
    def __init__(self, args: list[str], env: dict):
        self.log = tempfile.NamedTemporaryFile(prefix="celery-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dlsc", *args],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"celery exited with {self.process.returncode}:\n{self.output()[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"celery did not print {text!r} within {timeout}s:\n{self.output()[-4000:]}")

    def kill(self, sig=signal.SIGKILL) -> None:
        """Kill the whole process group (the main process and its pool children) at once."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A warm shutdown: SIGTERM to the main process only, which lets the task in hand finish (a SIGTERM to the
        whole group would also end the pool child between sending a mail and marking it sent); then whatever is
        left of the group is killed."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()


def celery_env(*, broker_url: str, queue: str, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "DJANGO_SETTINGS_MODULE": "dlsc.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def worker_start(*, env: dict, concurrency: int = 1, pool: str = "prefork") -> CeleryProcess:
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    worker = CeleryProcess(
        [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            name,
            "-Q",
            env["CELERY_TASK_DEFAULT_QUEUE"],
        ],
        env,
    )
    worker.wait_for_output("ready.")
    return worker


def broker_switch(*, url: str, queue: str) -> None:
    """Point this process's publishing at another broker and queue. Celery and kombu cache connection and
    producer pools on first use, so they are closed and dropped for the next publish to connect to the new URL."""
    from kombu import pools

    from dlsc.celery import app
    from outbox.api import background_publishes_wait

    # A publish an earlier test handed to the publishing thread may still be running: were it to rebuild app.amqp
    # between the drop below and the new settings, it would keep the old default queue, and the publishes of the
    # test that switched would go where its worker never looks (CI saw the outage test's mail never arrive).
    background_publishes_wait()
    app.conf.broker_url = url
    app.conf.task_default_queue = queue
    pools.reset()
    app._pool = None
    # app.amqp is a cached property that also remembers the default queue and router: drop it whole.
    app.__dict__.pop("amqp", None)
