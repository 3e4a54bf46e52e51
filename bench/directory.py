"""Benchmark the member directory: 2,000 organisations in PostgreSQL, the first page and a filtered full-text
search served by gunicorn, against a trivial view (the favicon redirect) on the same server in the same run.
Anonymous visitors get the shared cached page (ratio); a signed-in member never gets it and is served a render
made of the cached parts (uncached_ratio). `queries` counts a render with an empty cache, `queries_warm`
one with the parts cached; each must be the same for 30 rows and for 1.

Run: DATABASE_URL=postgres://... .venv/bin/python bench/directory.py
It builds a scratch database next to the one in DATABASE_URL (suffix `_bench`), drops it at the end, and prints
one JSON line: {"bench": "directory", "ratio": ..., "rps": ..., "baseline_rps": ..., "queries": ...,
"queries_constant": ...}."""

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ORGANISATIONS = 2000
DURATION = float(os.environ.get("BENCH_SECONDS", "6"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WORDS = ["robotter", "genoptræning", "diagnostik", "sensorer", "kliniske", "forsøg", "biomaterialer", "data"]


def scratch_database_url() -> str:
    source = os.environ.get("DATABASE_URL", "")
    if not source.startswith("postgres"):
        sys.exit("bench/directory.py needs DATABASE_URL pointing at PostgreSQL")
    parsed = urlparse(source)
    return parsed._replace(path=parsed.path.rstrip("/") + "_bench").geturl()


def database_recreate(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def database_drop(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')
    admin.close()


def seed() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from hubs.models import Hub, Region
    from members.models import Membership, Organisation, Segment
    from members.services import organisation_search_refresh

    rng = random.Random(2020)
    regions = list(Region.objects.prefetch_related("hubs"))
    hubs = {region.pk: region.hubs.first() for region in regions}
    segments = list(Segment.objects.all())
    organisations = []
    for n in range(ORGANISATIONS):
        region = regions[n % len(regions)]
        words = " ".join(rng.sample(WORDS, k=3))
        organisations.append(
            Organisation(
                slug=f"bench-{n}",
                name=f"Benchfirma {n:04d}",
                legal_name=f"Benchfirma {n:04d} ApS",
                kind="company",
                size_band=["1-9", "10-49", "50-249", "250+"][n % 4],
                city="Aarhus",
                region=region,
                hub=hubs[region.pk] or Hub.objects.first(),
                description_da=f"Vi arbejder med {words}.",
                description_en="We work with health technology.",
                offers_da="Rådgivning og udvikling.",
                seeks_da="Partnere i sundhedssektoren.",
            )
        )
    Organisation.objects.bulk_create(organisations, batch_size=500)
    organisations = list(Organisation.objects.order_by("pk"))
    today = timezone.localdate()
    Membership.objects.bulk_create(
        [
            Membership(
                organisation=organisation,
                status="active",
                period_start=today - timedelta(days=10),
                period_end=today + timedelta(days=355),
                paid_on=today,
            )
            for organisation in organisations
        ],
        batch_size=500,
    )
    through = Organisation.segments.through
    through.objects.bulk_create(
        [
            through(organisation=organisation, segment=segment)
            for organisation in organisations
            for segment in rng.sample(segments, k=2)
        ],
        batch_size=1000,
    )
    organisation_search_refresh(organisation_ids=[o.pk for o in organisations])
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum would have done on a live site
        cursor.execute("ANALYZE")


def member_session_cookie() -> str:
    """A signed-in member's session cookie: such a visitor is never served the shared cached page."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from members.models import Organisation, OrganisationRole

    user = User.objects.create_user(email="bench-member@example.com", full_name="Bench Member")
    OrganisationRole.objects.create(organisation=Organisation.objects.order_by("pk").first(), user=user)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def query_counts(*, cold: bool, cookie: str) -> dict:
    """Queries per render for the signed-in member: `cold` with nothing cached (every part rendered and
    stored), else as a repeat visit finds the parts cached. Their session and user are two of the queries."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    setup_test_environment()  # so that responses carry their template context (the rows shown)
    client = Client()
    client.cookies.load(cookie)
    counts = {}
    for label, url in [
        ("first_page", "/da/members/"),
        ("filtered", "/da/members/?q=robotter&segment=medtech&hub=aarhus"),
        ("one_row", "/da/members/?q=%22Benchfirma+0007%22"),
    ]:
        if cold:
            cache.clear()
        else:
            client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[label] = (len(queries), len(response.context["page"]))
    teardown_test_environment()
    cache.clear()
    return counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(port: int, path: str, *, expect: int, headers: dict | None = None) -> float:
    """Requests per second from CLIENTS keep-alive connections hammering one path for DURATION seconds."""
    done = [0] * CLIENTS
    stop = time.monotonic() + DURATION

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
            response = connection.getresponse()
            response.read()
            if response.status != expect:
                raise RuntimeError(f"{path} answered {response.status}")
            done[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def serve(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "dlsc.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("gunicorn did not start")


def main() -> None:
    url = scratch_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECRET_KEY": "bench-" + "k" * 50,
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "dlsc.settings",
    }
    os.environ.update(env)
    database_recreate(url)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        seed()
        cookie = member_session_cookie()
        counts = query_counts(cold=True, cookie=cookie)
        warm = query_counts(cold=False, cookie=cookie)
        port = free_port()
        server = serve(env, port)
        try:
            load(port, "/da/members/", expect=200)  # warm the workers' connections and caches
            baseline = load(port, "/favicon.ico", expect=301)
            first_page = load(port, "/da/members/", expect=200)
            filtered = load(port, "/da/members/?q=robotter&segment=medtech&hub=aarhus", expect=200)
            # A signed-in member is never served the shared cached page.
            uncached = load(port, "/da/members/", expect=200, headers={"Cookie": cookie})
        finally:
            server.terminate()
            server.wait(timeout=10)
        from django.db import connections

        connections.close_all()
    finally:
        database_drop(url)
    rps = min(first_page, filtered)
    print(
        json.dumps(
            {
                "bench": "directory",
                "organisations": ORGANISATIONS,
                "ratio": round(rps / baseline, 3),
                "rps": round(rps, 1),
                "first_page_rps": round(first_page, 1),
                "filtered_rps": round(filtered, 1),
                "baseline_rps": round(baseline, 1),
                "uncached_rps": round(uncached, 1),
                "uncached_ratio": round(uncached / baseline, 3),
                "queries": counts["first_page"][0],
                "queries_filtered": counts["filtered"][0],
                "rows": {label: rows for label, (_, rows) in counts.items()},
                "queries_constant": len({queries for queries, _ in counts.values()}) == 1,
                "queries_warm": warm["first_page"][0],
                "queries_warm_constant": len({queries for queries, _ in warm.values()}) == 1,
                "load_average": [round(figure, 2) for figure in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
