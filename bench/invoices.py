"""Benchmark: the membership renewal run for 500 members through a real Celery worker (Redis), on production
settings (DEBUG off): each due membership gets its next period, an issued invoice with a gapless number, the PDF
(WeasyPrint) stored and one outbox row with the PDF attached.

The baseline is measured in the same run: the same invoice HTML (the template rendered for one of the run's own
invoices) turned into a PDF alone, in a loop in this process, as many times as there are invoices. `ratio` is
the run's invoices per second over the baseline's PDFs per second: the share of the PDF engine's own speed that
the whole run keeps (numbering under the counter lock, the membership rows, the audit, storage and the mail).

Correctness, each of which makes the bench exit 1 after printing its JSON line: every member renewed once, one
invoice per membership with a stored PDF and one outbox row carrying it; the invoice numbers of the run are
1..N without a gap (`gaps`) or a repeat (`duplicates`).

Run: DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/invoices.py [--members N]
It builds a scratch database next to the one in DATABASE_URL (suffix `_invbench`), drops it at the end, and prints
one JSON line."""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support.database import database_drop, database_recreate, scratch_database_url  # noqa: E402


def members_create(*, count: int, today) -> None:
    """`count` companies whose membership ends in ten days, of a type that renews automatically and invoices
    thirty days ahead, with a fee for next year."""
    from members.models import Membership, MembershipType, MembershipTypeFee, Organisation

    membership_type = MembershipType.objects.create(
        slug="bench-member",
        name_da="Benchmedlem",
        name_en="Bench member",
        organisation_kinds=["company"],
        renews_automatically=True,
        invoice_days_before=30,
    )
    ends = today + timedelta(days=10)
    start = ends + timedelta(days=1)
    MembershipTypeFee.objects.create(
        membership_type=membership_type, year=start.year, size_band="", amount=Decimal("8000.00")
    )
    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                slug=f"bench-{n}",
                legal_name=f"Bench Company {n} ApS",
                name=f"Bench Company {n}",
                kind="company",
                size_band="10-49",
                address=f"Benchvej {n}",
                postcode="8000",
                city="Aarhus C",
                billing_email=f"faktura-{n}@bench.example",
                billing_contact_name=f"Bogholder {n}",
            )
            for n in range(count)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(
                organisation=organisation,
                membership_type=membership_type,
                size_band="10-49",
                status=Membership.Status.ACTIVE,
                period_start=ends.replace(year=ends.year - 1) + timedelta(days=1),
                period_end=ends,
                fee_dkk=Decimal("8000.00"),
            )
            for organisation in organisations
        ]
    )


def renewal_wait(*, count: int, timeout: float) -> float:
    """Wait until `count` renewal invoices are issued with their PDF stored and their mail written."""
    from billing.models import Invoice
    from outbox.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = Invoice.objects.filter(category="membership").exclude(pdf="").count()
        mailed = OutboxMessage.objects.filter(dedupe_key__startswith="billing:invoice:").count()
        if done >= count and mailed >= count:
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"only {done} PDFs and {mailed} mails of {count} within {timeout}s")


def baseline_per_second(*, count: int) -> float:
    """The same invoice's HTML turned into a PDF alone, `count` times, in this process."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    from billing.models import Invoice
    from billing.pdf import invoice_html

    html = invoice_html(invoice=Invoice.objects.filter(category="membership").order_by("sequence").first())
    fetcher = URLFetcher(allowed_protocols=["file"], fail_on_errors=True)
    started = time.monotonic()
    for _ in range(count):
        HTML(string=html, url_fetcher=fetcher).write_pdf()
    return count / (time.monotonic() - started)


def checks(*, count: int) -> dict:
    from django.db.models import Count

    from billing.models import Invoice
    from members.models import Membership
    from outbox.models import OutboxMessage

    invoices = Invoice.objects.filter(category="membership", kind="invoice")
    sequences = sorted(invoices.values_list("sequence", flat=True))
    duplicates = len(sequences) - len(set(sequences))
    gaps = (max(sequences) - len(set(sequences))) if sequences else 0
    per_membership = (
        Membership.objects.filter(invoice__isnull=False).values("organisation").annotate(n=Count("pk")).filter(n__gt=1)
    )
    mails = OutboxMessage.objects.filter(dedupe_key__startswith="billing:invoice:")
    with_pdf = sum(1 for attachments in mails.values_list("attachments", flat=True) if attachments)
    failures = []
    if (invoices.count(), invoices.exclude(pdf="").count(), mails.count(), with_pdf) != (count,) * 4:
        failures.append(
            f"invoices, with PDF, mails, mails with the PDF were "
            f"{(invoices.count(), invoices.exclude(pdf='').count(), mails.count(), with_pdf)}, not {count} each"
        )
    if duplicates or gaps or per_membership.exists():
        failures.append(f"{gaps} gaps, {duplicates} duplicate numbers, {per_membership.count()} renewed twice")
    return {"gaps": gaps, "duplicates": duplicates, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=500)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench/invoices.py needs DATABASE_URL pointing at PostgreSQL and REDIS_URL at Redis")
    url = scratch_database_url("_invbench")
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    media = tempfile.mkdtemp(prefix="invbench-media-")
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "OUTBOX_DELIVER": "0",  # the rows are the point here; sending them is bench/newsletter.py's subject
            "MEDIA_ROOT": media,
            "CELERY_BROKER_URL": os.environ["REDIS_URL"],
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "DJANGO_SETTINGS_MODULE": "dlsc.settings",
        }
    )
    database_recreate(url)
    result = {}
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections
        from django.utils import timezone

        from dlsc.celery import app
        from tests.support.workers import celery_env, worker_start

        if settings.DEBUG:
            raise SystemExit("the bench runs on production settings (DEBUG=0)")
        call_command("migrate", verbosity=0)
        app.conf.task_default_queue = queue
        app.conf.broker_url = os.environ["REDIS_URL"]
        members_create(count=args.members, today=timezone.localdate())
        worker = worker_start(env=celery_env(broker_url=os.environ["REDIS_URL"], queue=queue), concurrency=1)
        try:
            started = time.monotonic()
            app.send_task("members.tasks.memberships_renew_task", queue=queue)
            finished = renewal_wait(count=args.members, timeout=900)
        finally:
            worker.stop()
        per_second = args.members / (finished - started)
        baseline = baseline_per_second(count=args.members)
        result = {
            "per_second": round(per_second, 1),
            "baseline_per_second": round(baseline, 1),
            "ratio": round(per_second / baseline, 3),
            **checks(count=args.members),
        }
        app.pool.force_close_all()
        connections.close_all()
    finally:
        database_drop(url)
    print(json.dumps({"bench": "invoices", "members": args.members, "worker_processes": 1, **result}))
    if result.get("failures") or not result:
        sys.exit(1)


if __name__ == "__main__":
    main()
