"""Benchmark: a 10,000-recipient campaign delivered by a real Celery worker (two processes, Redis) to an aiosmtpd
sink, against a plain smtplib loop sending the same prepared messages over one connection in the same run.

Run with DATABASE_URL (PostgreSQL) and REDIS_URL set: .venv/bin/python bench/newsletter.py [--recipients N]
Prints one JSON line at the end.

`per_second`, the campaign's delivery rate that `ratio` compares, counts from the moment the recipients are fixed
(campaign_start has written one outbox row per subscriber, committed, and published the batches) to the last
delivery: that is the sending the baseline also does, and the baseline's own preparation (building the same
messages) is likewise outside its timer. Fixing the recipients is a separate, one-off step that no smtplib loop
has; it is reported as `fix_seconds`, and the rate over both steps as `per_second_with_fix`. The worker runs as in
production (DEBUG off, WARNING logs); the sink only counts which outbox row each mail was, so it costs both runs
alike and as little as possible."""

import argparse
import email.policy
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dlsc.settings")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from dlsc.celery import app  # noqa: E402
from newsletters import services  # noqa: E402
from newsletters.models import Campaign, Subscriber, Topic  # noqa: E402
from outbox.models import OutboxMessage  # noqa: E402
from outbox.services import message_build  # noqa: E402
from tests.support.services import free_port  # noqa: E402
from tests.support.workers import celery_env, worker_start  # noqa: E402

MESSAGE_ID = re.compile(rb"^X-DLSC-Message: (\d+)", re.MULTILINE)


class CountingHandler:
    """Keeps only which outbox row each received mail was, so the sink costs as little as possible."""

    def __init__(self):
        self.ids = Counter()
        self.received = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        match = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids[int(match.group(1)) if match else 0] += 1
            self.received += 1
        return "250 OK"

    def total(self) -> int:
        # A running count: summing the counter while the campaign runs would take the sink's GIL time.
        return self.received

    def reset(self) -> Counter:
        with self.lock:
            seen, self.ids, self.received = self.ids, Counter(), 0
        return seen


def subscribers_create(*, topic: Topic, count: int, run: str) -> None:
    now = timezone.now()
    rows = [
        Subscriber(
            email=f"bench-{run}-{n}@bench.example",
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
    raise SystemExit(f"only {handler.total()} of {count} mails arrived within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    if not settings.IS_POSTGRES or not settings.REDIS_URL:
        raise SystemExit("set DATABASE_URL to PostgreSQL and REDIS_URL to Redis")
    call_command("migrate", verbosity=0)
    # aiosmtpd logs every SMTP command at INFO; in the sink's thread that would slow both runs alike.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    handler = CountingHandler()
    port = free_port()
    sink = Controller(handler, hostname="127.0.0.1", port=port)
    sink.start()
    run = uuid.uuid4().hex[:8]
    queue = f"bench-{run}"
    app.conf.task_default_queue = queue
    app.conf.broker_url = settings.REDIS_URL
    settings.OUTBOX_DELIVER = True
    env = celery_env(
        broker_url=settings.REDIS_URL,
        queue=queue,
        extra={
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "OUTBOX_DELIVER": "1",
            "LOG_LEVEL": "WARNING",
            # As in production: with DEBUG on, every statement goes through the debug cursor and is kept in
            # connection.queries.
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
        },
    )
    worker = worker_start(env=env, concurrency=args.concurrency)
    topic = Topic.objects.create(slug=f"bench-{run}", name_da="Bench", name_en="Bench")
    campaign = None
    try:
        subscribers_create(topic=topic, count=args.recipients, run=run)
        campaign = Campaign.objects.create(
            subject_da="Benchmark-nyhedsbrev",
            subject_en="Benchmark newsletter",
            body_da="Hej **læser**,\n\n" + "En linje med nyheder fra klyngen.\n\n" * 30,
            body_en="Hello **reader**,\n\n" + "A line of news from the cluster.\n\n" * 30,
        )
        campaign.topics.set([topic])

        started = time.monotonic()
        services.campaign_start(campaign_id=campaign.pk)
        fixed = time.monotonic()
        finished = wait_for(handler, args.recipients, timeout=600)
        time.sleep(1)  # let any late duplicate arrive before counting
        seen = handler.reset()
        expected = set(
            OutboxMessage.objects.filter(newsletter_delivery__campaign=campaign).values_list("pk", flat=True)
        )
        lost = len(expected - set(seen))
        duplicates = sum(count - 1 for pk, count in seen.items() if pk in expected and count > 1)
        campaign_seconds = finished - started

        prepared = [
            (message.from_email, [message.to], message_build(message).message(policy=email.policy.SMTP).as_bytes())
            for message in OutboxMessage.objects.filter(pk__in=expected).order_by("pk")
        ]
        baseline_started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", port) as connection:
            for from_email, to, data in prepared:
                connection.sendmail(from_email, to, data)
        baseline_finished = wait_for(handler, len(prepared), timeout=600)
        baseline_seconds = baseline_finished - baseline_started

        per_second = args.recipients / (finished - fixed)
        baseline_per_second = len(prepared) / baseline_seconds
        print(
            f"campaign: fixed {args.recipients} recipients in {fixed - started:.2f}s, "
            f"all delivered after {campaign_seconds:.2f}s; smtplib loop: {baseline_seconds:.2f}s",
            file=sys.stderr,
        )
        print(
            json.dumps(
                {
                    "bench": "newsletter",
                    "recipients": args.recipients,
                    "worker_processes": args.concurrency,
                    "fix_seconds": round(fixed - started, 2),
                    "send_seconds": round(finished - fixed, 2),
                    "per_second": round(per_second, 1),
                    "per_second_with_fix": round(args.recipients / campaign_seconds, 1),
                    "baseline_per_second": round(baseline_per_second, 1),
                    "ratio": round(per_second / baseline_per_second, 3),
                    "lost": lost,
                    "duplicates": duplicates,
                }
            )
        )
    finally:
        if os.environ.get("BENCH_WORKER_LOG"):
            print(worker.output()[-6000:], file=sys.stderr)
        worker.stop()
        sink.stop()
        if campaign is not None:
            OutboxMessage.objects.filter(newsletter_delivery__campaign=campaign).delete()
            campaign.delete()
        Subscriber.objects.filter(email__startswith=f"bench-{run}-").delete()
        topic.delete()
        app.pool.force_close_all()


if __name__ == "__main__":
    main()
