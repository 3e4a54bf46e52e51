"""Gapless numbers per series and year. The counter row is locked in the transaction that issues the document
(through the one lock helper), so two runs at once wait for each other for the length of one insert, and a
rolled-back issue gives its number back."""

from django.db import transaction

from billing.models import NumberCounter
from common.locks import lock_one

SERIES = {"invoice": "F", "credit_note": "K"}


def number_format(*, series: str, year: int, sequence: int) -> str:
    """F2027-00017 for an invoice, K2027-00003 for a credit note."""
    return f"{series}{year}-{sequence:05d}"


def number_next(*, series: str, year: int) -> int:
    """Take the next number of `series` in `year`. Must run inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next() must run inside the transaction that issues the document")
    # The row is created once per series and year; a concurrent creator is ignored, then both lock the one row.
    NumberCounter.objects.bulk_create([NumberCounter(series=series, year=year)], ignore_conflicts=True)
    counter = lock_one(NumberCounter.objects.all(), series=series, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number
