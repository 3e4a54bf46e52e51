"""Benchmark the member directory: 2,000 organisations in PostgreSQL served by gunicorn (DEBUG=0, production
settings), against a trivial view (the favicon redirect) on the same server with the same clients in the same run.

The headline is two figures side by side:
- `cold_ratio`: varied searches, filters and pages (COLD_URLS distinct URLs), each requested once per round, with the
  cache cleared before every round, so every request runs its queries and renders its cards and filters;
- `ratio`: cache hits, two fixed URLs (the first page and a filtered search) after a warm-up, anonymous.
Beside them `signed_in_ratio`: a signed-in member on the first page, who is served the page stored for signed-in
members with a CSRF token of their own in the logout form, after their session and user are read (it was called
`uncached_ratio`, which it is not).
Every figure is taken in ROUNDS slices interleaved with slices of the trivial view, and each ratio is the median of
the ratios of neighbouring slices, so that a machine whose load moves from second to second (a shared CI runner)
compares like with like. `queries` reports the queries of one render: anonymous and signed-in with nothing cached,
and signed-in with the parts cached.

Checks, each of which makes the bench exit 1 after printing its figures: the queries of a render are the same for
30 rows and for 1 (cold, and with the parts cached), every request answers 200, and the directory finds what the seed
data says it must (the number of matches of every cold URL, the rows of three known pages).

Run: DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/directory.py
It builds a scratch database next to the one in DATABASE_URL (suffix `_bench`), drops it at the end, and prints
one JSON line."""

import html
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support.database import database_drop, database_recreate, scratch_database_url  # noqa: E402

ORGANISATIONS = 2000
# Each figure is measured in ROUNDS slices of SLICE seconds, interleaved with slices of the trivial view, and a ratio
# is the median of the ratios of slices measured side by side: on a shared machine the load moves within seconds,
# and figures taken one after the other for 6 s each compared different machines.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SLICE = float(os.environ.get("BENCH_SLICE_SECONDS", "1.5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WORDS = ["robotter", "genoptræning", "diagnostik", "sensorer", "kliniske", "forsøg", "biomaterialer", "data"]
SIZE_BANDS = ["1-9", "10-49", "50-249", "250+"]
COLD_URLS = int(os.environ.get("BENCH_COLD_URLS", "48"))


def seed() -> list[dict]:
    """The organisations, and what each is (its words, segments, hub, size): the facts the checks count from."""
    from datetime import timedelta

    from django.utils import timezone

    from hubs.models import Hub, Region
    from members.models import Membership, MembershipType, Organisation, Segment
    from members.services import organisation_search_refresh

    rng = random.Random(2020)
    regions = list(Region.objects.prefetch_related("hubs"))
    hubs = {region.pk: region.hubs.first() for region in regions}
    segments = list(Segment.objects.all())
    organisations = []
    facts = []
    for n in range(ORGANISATIONS):
        region = regions[n % len(regions)]
        words = rng.sample(WORDS, k=3)
        hub = hubs[region.pk] or Hub.objects.first()
        facts.append({"name": f"Benchfirma {n:04d}", "words": set(words), "hub": hub.slug, "size": SIZE_BANDS[n % 4]})
        words = " ".join(words)
        organisations.append(
            Organisation(
                slug=f"bench-{n}",
                name=f"Benchfirma {n:04d}",
                legal_name=f"Benchfirma {n:04d} ApS",
                kind="company",
                size_band=SIZE_BANDS[n % 4],
                city="Aarhus",
                region=region,
                hub=hub,
                description_da=f"Vi arbejder med {words}.",
                description_en="We work with health technology.",
                offers_da="Rådgivning og udvikling.",
                seeks_da="Partnere i sundhedssektoren.",
            )
        )
    Organisation.objects.bulk_create(organisations, batch_size=500)
    organisations = list(Organisation.objects.order_by("pk"))
    today = timezone.localdate()
    company = MembershipType.objects.get(slug="company")  # seeded by the members app's data migration
    Membership.objects.bulk_create(
        [
            Membership(
                organisation=organisation,
                membership_type=company,
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
    links = []
    for organisation, fact in zip(organisations, facts, strict=True):
        chosen = rng.sample(segments, k=2)
        fact["segments"] = {segment.code for segment in chosen}
        links += [through(organisation=organisation, segment=segment) for segment in chosen]
    through.objects.bulk_create(links, batch_size=1000)
    organisation_search_refresh(organisation_ids=[o.pk for o in organisations])
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum would have done on a live site
        cursor.execute("ANALYZE")
    return facts


def expected_count(facts: list[dict], params: dict) -> int:
    """How many organisations match `params`, counted from the seed's facts rather than by the directory's query.
    Every seeded organisation is an active, listed company; a search word matches its description only."""
    return sum(
        1
        for fact in facts
        if ("q" not in params or params["q"] in fact["words"])
        and ("segment" not in params or params["segment"] in fact["segments"])
        and ("hub" not in params or params["hub"] == fact["hub"])
        and ("size_band" not in params or params["size_band"] == fact["size"])
    )


def cold_urls(*, facts: list[dict]) -> list[tuple[str, int]]:
    """COLD_URLS distinct directory URLs mixing a search word, segment, hub, size and page, each with the number of
    matches it must report."""
    from urllib.parse import urlencode

    from hubs.models import Hub
    from members.models import Segment

    rng = random.Random(11)
    segments = list(Segment.objects.values_list("code", flat=True))
    hubs = list(Hub.objects.values_list("slug", flat=True))
    urls = {}
    while len(urls) < COLD_URLS:
        params = {
            "q": rng.choice(WORDS),
            "segment": rng.choice([*segments, None]),
            "hub": rng.choice([*hubs, None, None]),
            "size_band": rng.choice([*SIZE_BANDS, None, None, None]),
            "page": rng.choice([None, None, "2", "3"]),
        }
        if rng.random() < 0.25:
            del params["q"]
        params = {name: value for name, value in params.items() if value is not None}
        urls["/da/members/?" + urlencode(params)] = expected_count(facts, params)
    return list(urls.items())


MATCHES = re.compile(r'role="status">(\d+) medlem')


def matches_reported(body: str) -> int:
    found = MATCHES.search(body)
    return int(found.group(1)) if found else -1


CARD_NAME = re.compile(r'<li class="card">\s*<h2>(?:<img [^>]*> )?<a href="[^"]*">([^<]*)</a>')


def card_names(body: str) -> list[str]:
    """The organisations a page shows, in order, read from its cards (a stored page has no template context)."""
    return [html.unescape(name) for name in CARD_NAME.findall(body)]


def member_session_cookie() -> str:
    """A signed-in member's session cookie: such a visitor is served the page stored for members, never the one
    stored for anonymous visitors."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from members.models import Organisation, OrganisationRole

    user = User.objects.create_user(email="bench-member@example.com", full_name="Bench Member")
    OrganisationRole.objects.create(organisation=Organisation.objects.order_by("pk").first(), user=user)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def query_counts(*, cold: bool, cookie: str | None) -> dict:
    """Queries per render and the rows shown: `cold` with nothing cached (every part rendered and stored), else as a
    repeat visit finds the parts cached. For a signed-in member (`cookie`) the session and user are two of them."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    setup_test_environment()
    client = Client()
    if cookie:
        client.cookies.load(cookie)
    counts = {}
    for label, url in KNOWN_PAGES.items():
        if cold:
            cache.clear()
        else:
            client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.content.decode()
        counts[label] = {"queries": len(queries), "names": card_names(body), "matches": matches_reported(body)}
    teardown_test_environment()
    cache.clear()
    return counts


KNOWN_PAGES = {
    "first_page": "/da/members/",
    "filtered": "/da/members/?q=robotter&segment=medtech&hub=aarhus",
    "one_row": "/da/members/?q=%22Benchfirma+0007%22",
}


def known_pages_expected(facts: list[dict]) -> dict:
    filtered = {"q": "robotter", "segment": "medtech", "hub": "aarhus"}
    return {
        "first_page": {"names": [f"Benchfirma {n:04d}" for n in range(30)], "matches": ORGANISATIONS},
        "filtered": {"rows": min(30, expected_count(facts, filtered)), "matches": expected_count(facts, filtered)},
        "one_row": {"names": ["Benchfirma 0007"], "matches": 1},
    }


def known_pages_wrong(counts: dict, expected: dict) -> list[str]:
    wrong = []
    for label, want in expected.items():
        got = counts[label]
        if "names" in want and got["names"] != want["names"]:
            wrong.append(f"{label}: rows {got['names'][:3]}... instead of {want['names'][:3]}...")
        if "rows" in want and len(got["names"]) != want["rows"]:
            wrong.append(f"{label}: {len(got['names'])} rows instead of {want['rows']}")
        if got["matches"] != want["matches"]:
            wrong.append(f"{label}: {got['matches']} matches instead of {want['matches']}")
    return wrong


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ERRORS: list[str] = []


def load(port: int, path: str, *, expect: int, headers: dict | None = None) -> float:
    """Requests per second from CLIENTS keep-alive connections hammering one path for SLICE seconds."""
    done = [0] * CLIENTS
    stop = time.monotonic() + SLICE

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.monotonic() < stop:
                connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
                response = connection.getresponse()
                response.read()
                if response.status != expect:
                    ERRORS.append(f"{path} answered {response.status}")
                    return
                done[index] += 1
        except OSError as error:
            ERRORS.append(f"{path}: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def cold_round(port: int, urls: list[tuple[str, int]], wrong: set) -> float:
    """Requests per second over `urls`, shared out to CLIENTS keep-alive connections, each URL requested once, after
    the cache was cleared (not timed): every request is a cold render. A URL whose number of matches is not the
    expected one goes into `wrong`."""
    from django.conf import settings
    from django.core.cache import cache

    if "Redis" not in settings.CACHES["default"]["BACKEND"]:
        sys.exit("bench/directory.py needs REDIS_URL: the cache it clears must be the one gunicorn uses")
    cache.clear()
    queue, lock = list(reversed(urls)), threading.Lock()

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        url = None
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    url, expected = queue.pop()
                connection.request("GET", url, headers={"Host": "127.0.0.1"})
                response = connection.getresponse()
                body = response.read().decode()
                if response.status != 200:
                    ERRORS.append(f"{url} answered {response.status}")
                elif matches_reported(body) != expected:
                    wrong.add(f"{url}: {matches_reported(body)} matches instead of {expected}")
        except OSError as error:
            ERRORS.append(f"{url}: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(urls) / (time.monotonic() - started)


def load_one(port: int, path: str, *, headers: dict | None = None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
    connection.getresponse().read()
    connection.close()


def interleaved(port: int, measures: dict) -> dict[str, list[float]]:
    """ROUNDS rounds, each a slice of the trivial view ("baseline") followed by one slice of every measure."""
    rates = {name: [] for name in ["baseline", *measures]}
    for _ in range(ROUNDS):
        rates["baseline"].append(load(port, "/favicon.ico", expect=301))
        for name, measure in measures.items():
            rates[name].append(measure())
    return rates


def median_ratio(rates: list[float], baseline: list[float]) -> float:
    return round(statistics.median(rate / base for rate, base in zip(rates, baseline, strict=True)), 3)


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
    url = scratch_database_url("_bench")
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
        from django.core.cache import cache
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        facts = seed()
        cache.clear()
        cookie = member_session_cookie()
        counts = {
            "anonymous_cold": query_counts(cold=True, cookie=None),
            "signed_in_cold": query_counts(cold=True, cookie=cookie),
            "signed_in_warm": query_counts(cold=False, cookie=cookie),
        }
        urls = cold_urls(facts=facts)
        port = free_port()
        server = serve(env, port)
        cold_wrong = set()

        def warm_then_load(path, **kwargs):
            load_one(port, path, headers=kwargs.get("headers"))  # a slice measures hits, not the first miss
            return load(port, path, expect=200, **kwargs)

        try:
            load(port, "/da/members/", expect=200)  # warm the workers' connections and caches
            ERRORS.clear()  # a worker's first request may outlast the client's patience on a busy machine
            rates = interleaved(
                port,
                {
                    "cold": lambda: cold_round(port, urls, cold_wrong),
                    "first_page": lambda: warm_then_load("/da/members/"),
                    "filtered": lambda: warm_then_load(KNOWN_PAGES["filtered"]),
                    # A signed-in member is never served the shared stored page.
                    "signed_in": lambda: warm_then_load("/da/members/", headers={"Cookie": cookie}),
                },
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
        from django.db import connections

        connections.close_all()
    finally:
        database_drop(url)
    baseline = rates["baseline"]
    cached = [min(pair) for pair in zip(rates["first_page"], rates["filtered"], strict=True)]
    queries = {kind: {label: page["queries"] for label, page in pages.items()} for kind, pages in counts.items()}
    expected = known_pages_expected(facts)
    checks_failed = [
        f"{kind}: queries differ between pages: {figures}"
        for kind, figures in queries.items()
        if len(set(figures.values())) != 1
    ]
    checks_failed += [
        f"{kind} {problem}" for kind, pages in counts.items() for problem in known_pages_wrong(pages, expected)
    ]
    checks_failed += sorted(cold_wrong) + ERRORS
    print(
        json.dumps(
            {
                "bench": "directory",
                "organisations": ORGANISATIONS,
                "cold_ratio": median_ratio(rates["cold"], baseline),
                "ratio": median_ratio(cached, baseline),
                "signed_in_ratio": median_ratio(rates["signed_in"], baseline),
                "rounds": ROUNDS,
                "baseline_rps": round(statistics.median(baseline), 1),
                "cold_rps": round(statistics.median(rates["cold"]), 1),
                "cold_urls": len(urls),
                "rps": round(statistics.median(cached), 1),
                "first_page_rps": round(statistics.median(rates["first_page"]), 1),
                "filtered_rps": round(statistics.median(rates["filtered"]), 1),
                "signed_in_rps": round(statistics.median(rates["signed_in"]), 1),
                "queries": queries,
                "queries_constant": not any("queries differ" in problem for problem in checks_failed),
                "results_correct": not any("queries differ" not in problem for problem in checks_failed),
                "checks_failed": checks_failed,
                "load_average": [round(figure, 2) for figure in os.getloadavg()],
            },
            ensure_ascii=False,
        )
    )
    if checks_failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
