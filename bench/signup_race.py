"""Many concurrent guest sign-ups for a limited event, through gunicorn on PostgreSQL.

Run: DATABASE_URL=postgres://... .venv/bin/python bench/signup_race.py [--signups 300 --capacity 100]
Ends with one JSON line: signups, capacity, confirmed, waitlisted, errors and sign-ups per second."""

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dlsc.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from events.models import Event, Registration  # noqa: E402
from hubs.models import Hub  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:  # not listening yet, or the first request is still warming up
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {url}")


def prepared_client(base: str, path: str):
    """A client with the CSRF cookie and the form token from the event page, ready to post."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    html = opener.open(base + path, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return opener, token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=300)
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/signup_race.py needs DATABASE_URL pointing at PostgreSQL")

    hub = Hub.objects.order_by("pk").first() or Hub.objects.create(slug="bench", name="Bench", city="Bench")
    starts_at = timezone.now() + timedelta(days=30)
    event = Event.objects.create(
        slug=f"bench-{uuid.uuid4().hex[:10]}",
        title="Bench",
        hub=hub,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=args.capacity,
        status=Event.Status.PUBLISHED,
    )
    port = free_port()
    env = {
        **os.environ,
        "EVENTS_SIGNUP_RATE_PER_MINUTE": "0",  # one client address sends every sign-up here
        "OUTBOX_DELIVER": "0",  # mail stays in the outbox; the bench measures sign-up, not delivery
        "DEBUG": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dlsc.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    path = f"/en/events/{event.slug}/"
    try:
        wait_for(base + "/healthz")
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            clients = list(pool.map(lambda _: prepared_client(base, path), range(args.signups)))
        errors = []
        lock = threading.Lock()

        def sign_up(index: int) -> None:
            opener, token = clients[index]
            data = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "full_name": f"Bench {index}",
                    "email": f"bench{index}@example.com",
                    "organisation_name": "Bench ApS",
                    "consent": "on",
                }
            ).encode()
            request = urllib.request.Request(base + path + "register/", data=data, headers={"Referer": base + path})
            try:
                status = opener.open(request, timeout=60).status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except Exception as exc:
                status = type(exc).__name__
            if status != 302:
                with lock:
                    errors.append(status)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(sign_up, range(args.signups)))
        elapsed = time.monotonic() - started

        statuses = list(Registration.objects.filter(event=event).values_list("status", flat=True))
        result = {
            "bench": "signup_race",
            "signups": args.signups,
            "capacity": args.capacity,
            "confirmed": statuses.count(Registration.Status.CONFIRMED),
            "waitlisted": statuses.count(Registration.Status.WAITLISTED),
            "errors": len(errors),
            "per_second": round(args.signups / elapsed, 1),
            "seconds": round(elapsed, 2),
            "gunicorn": f"{args.workers} workers x {args.threads} threads",
            "clients": args.clients,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        from outbox.models import OutboxMessage

        OutboxMessage.objects.filter(to__startswith="bench", to__endswith="@example.com").delete()
        event.delete()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
