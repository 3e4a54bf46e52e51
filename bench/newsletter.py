"""Benchmark: how much of an SMTP server's capacity the outbox reaches when it delivers a 10,000-recipient
campaign, with a real Celery worker (Redis) sending to an aiosmtpd sink, on production settings (DEBUG off).

The sink's capacity is measured in the same run: a plain smtplib loop replays the very bytes the sink received
from the campaign over one connection, as fast as the sink takes them (`sink_capacity_per_second`). The campaign's
delivery rate counts from the moment the recipients are fixed (campaign_start has written one outbox row per
subscriber, committed, and published the batches) to the last copy received. Each ratio is that rate divided by
the sink's capacity, i.e. the share of the sink's capacity the outbox reaches:
- `ratio_one_process`: a worker with one process (one SMTP connection at a time, as the smtplib loop);
- `ratio`: a worker with `--concurrency` processes (two by default), the production setting.
Fixing the recipients is a separate, one-off step that no smtplib loop has; it is reported as `fix_seconds`.

Correctness is checked on every run: each copy arrives exactly once (no lost copy, no duplicate, nothing that is
not a copy of the campaign), the campaign finishes, and its progress counts every copy as sent. The bench exits
with status 1 when a check fails, after printing its JSON line with the failures named.

Run: DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/newsletter.py [--recipients N]
It builds a scratch database next to the one in DATABASE_URL (suffix `_newsbench`), drops it at the end, and
prints one JSON line."""

import argparse
import json
import logging
import os
import re
import smtplib
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support.database import database_drop, database_recreate, scratch_database_url  # noqa: E402

MESSAGE_ID = re.compile(rb"^X-DLSC-Message: (\d+)", re.MULTILINE)


def newsletter_database_url() -> str:
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench/newsletter.py needs DATABASE_URL pointing at PostgreSQL and REDIS_URL at Redis")
    return scratch_database_url("_newsbench")


class CountingHandler:
    """Counts which outbox row each received mail was and keeps a reference to its bytes (for the replay), so
    the sink costs every run alike and as little as possible."""

    def __init__(self):
        self.ids = Counter()
        self.received = 0
        self.kept = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        match = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids[int(match.group(1)) if match else 0] += 1
            self.received += 1
            self.kept.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"

    def total(self) -> int:
        # A running count: summing the counter while the campaign runs would take the sink's GIL time.
        return self.received

    def reset(self) -> tuple[Counter, list]:
        with self.lock:
            seen, kept = self.ids, self.kept
            self.ids, self.received, self.kept = Counter(), 0, []
        return seen, kept


def subscribers_create(*, topic, count: int) -> None:
    from django.utils import timezone

    from newsletters.models import Subscriber

    now = timezone.now()
    rows = [
        Subscriber(
            email=f"bench-{n}@bench.example",
            name=f"Reader {n}",
            language="da" if n % 3 else "en",
            status=Subscriber.Status.CONFIRMED,
            confirmed_at=now,
        )
        for n in range(count)
    ]
    Subscriber.objects.bulk_create(rows, batch_size=2000)
    through = Subscriber.topics.through
    through.objects.bulk_create([through(subscriber_id=row.pk, topic_id=topic.pk) for row in rows], batch_size=5000)


def wait_for(handler: CountingHandler, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handler.total() >= count:
            return time.monotonic()
        time.sleep(0.005)
    raise TimeoutError(f"only {handler.total()} of {count} mails arrived within {timeout}s")


def campaign_run(*, handler: CountingHandler, topic, recipients: int, label: str) -> dict:
    """Deliver one campaign to every subscriber and check that each got exactly one copy."""
    from newsletters import campaigns
    from newsletters.models import Campaign, Delivery

    campaign = Campaign.objects.create(
        subject_da=f"Benchmark-nyhedsbrev {label}",
        subject_en=f"Benchmark newsletter {label}",
        body_da="Hej **læser**,\n\n" + "En linje med nyheder fra klyngen.\n\n" * 30,
        body_en="Hello **reader**,\n\n" + "A line of news from the cluster.\n\n" * 30,
    )
    campaign.topics.set([topic])
    started = time.monotonic()
    campaigns.campaign_start(campaign_id=campaign.pk)
    fixed = time.monotonic()
    failures = []
    try:
        finished = wait_for(handler, recipients, timeout=600)
    except TimeoutError as error:
        finished = None
        failures.append(f"{label}: {error}")
    time.sleep(1)  # let any late duplicate arrive before counting
    seen, kept = handler.reset()
    expected = set(Delivery.objects.filter(campaign=campaign).values_list("message_id", flat=True))
    lost = len(expected - set(seen))
    duplicates = sum(count - 1 for pk, count in seen.items() if pk in expected and count > 1)
    strangers = sum(count for pk, count in seen.items() if pk not in expected)
    deadline = time.monotonic() + 30  # the last batch task finishes the campaign once its copies are marked
    while Campaign.objects.get(pk=campaign.pk).status != Campaign.Status.SENT and time.monotonic() < deadline:
        time.sleep(0.1)
    campaign.refresh_from_db()
    progress = campaigns.campaign_progress(campaign=campaign)
    counts = (len(expected), progress.total, progress.sent, progress.failed, campaign.status)
    if lost or duplicates or strangers:
        failures.append(f"{label}: {lost} lost, {duplicates} duplicates, {strangers} mails that were no copy")
    if counts != (recipients, recipients, recipients, 0, Campaign.Status.SENT):
        failures.append(f"{label}: copies, progress total/sent/failed and status were {counts}")
    return {
        "fix_seconds": fixed - started,
        "send_seconds": (finished - fixed) if finished else None,
        "lost": lost,
        "duplicates": duplicates,
        "kept": kept,
        "failures": failures,
    }


def sink_capacity(*, handler: CountingHandler, port: int, kept: list) -> float:
    """Replay the received bytes over one connection with smtplib, as fast as the sink takes them."""
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for mail_from, rcpt_tos, content in kept:
            connection.sendmail(mail_from, rcpt_tos, content)
    finished = wait_for(handler, len(kept), timeout=600)
    handler.reset()
    return len(kept) / (finished - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    url = newsletter_database_url()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    production = {
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "OUTBOX_DELIVER": "1",
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "dlsc.settings",
    }
    os.environ.update(production)
    database_recreate(url)
    runs, failures, capacity = {}, [], None
    try:
        import django

        django.setup()
        from aiosmtpd.controller import Controller
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        from dlsc.celery import app
        from newsletters.models import Topic
        from tests.support.services import free_port
        from tests.support.workers import celery_env, worker_start

        if settings.DEBUG:
            raise SystemExit("the bench runs on production settings (DEBUG=0)")
        call_command("migrate", verbosity=0)
        # aiosmtpd logs every SMTP command at INFO; in the sink's thread that would slow every run alike.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        app.conf.task_default_queue = queue
        app.conf.broker_url = os.environ["REDIS_URL"]
        settings.OUTBOX_DELIVER = True
        handler = CountingHandler()
        port = free_port()
        sink = Controller(handler, hostname="127.0.0.1", port=port)
        sink.start()
        try:
            topic = Topic.objects.create(slug="bench", name_da="Bench", name_en="Bench")
            subscribers_create(topic=topic, count=args.recipients)
            env = celery_env(
                broker_url=os.environ["REDIS_URL"], queue=queue, extra={"EMAIL_URL": f"smtp://127.0.0.1:{port}"}
            )
            kept = []
            for processes in sorted({1, args.concurrency}):
                worker = worker_start(env=env, concurrency=processes)
                try:
                    run = campaign_run(handler=handler, topic=topic, recipients=args.recipients, label=f"{processes}p")
                finally:
                    if os.environ.get("BENCH_WORKER_LOG"):
                        print(worker.output()[-6000:], file=sys.stderr)
                    worker.stop()
                kept = run.pop("kept") or kept
                failures.extend(run.pop("failures"))
                runs[processes] = run
            capacity = sink_capacity(handler=handler, port=port, kept=kept)
        finally:
            sink.stop()
            app.pool.force_close_all()
            connections.close_all()
    finally:
        database_drop(url)

    def rate(processes: int) -> float | None:
        seconds = runs.get(processes, {}).get("send_seconds")
        return args.recipients / seconds if seconds else None

    def share(per_second: float | None) -> float | None:
        return round(per_second / capacity, 3) if per_second and capacity else None

    one, many = rate(1), rate(args.concurrency)
    print(
        json.dumps(
            {
                "bench": "newsletter",
                "recipients": args.recipients,
                "worker_processes": args.concurrency,
                "ratio": share(many),
                "ratio_one_process": share(one),
                "per_second": round(many, 1) if many else None,
                "per_second_one_process": round(one, 1) if one else None,
                "sink_capacity_per_second": round(capacity, 1) if capacity else None,
                "fix_seconds": round(runs.get(args.concurrency, {}).get("fix_seconds", 0), 2),
                "lost": sum(run["lost"] for run in runs.values()),
                "duplicates": sum(run["duplicates"] for run in runs.values()),
                "failures": failures,
            }
        )
    )
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
