"""The mails the outbox holds for a person: listed in their download; on erasure, mail still queued (or held) to them is
cancelled and every row to them loses the address, the body and the attachments (subject, date, status stay)."""

from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q

from outbox.models import OutboxMessage


def _addresses(user) -> set[str]:
    return {user.email.lower(), *(address.email.lower() for address in user.emailaddress_set.all())}


def _rows(user):
    return OutboxMessage.objects.filter(reduce(or_, (Q(to__iexact=address) for address in _addresses(user))))


def outbox_collect(user) -> dict:
    return {
        "mails": [
            {
                "subject": message.subject,
                "to": message.to,
                "created": message.created_at.isoformat(),
                "sent": message.sent_at.isoformat() if message.sent_at else None,
                "status": message.status,
            }
            for message in _rows(user).order_by("created_at", "pk")
        ]
    }


def outbox_erase(user) -> None:
    """Runs last, after the other apps have queued what they owe others (and the person) on the way out."""
    with transaction.atomic():
        rows = _rows(user)
        rows.filter(
            status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING, OutboxMessage.Status.HELD]
        ).update(status=OutboxMessage.Status.CANCELLED)
        # A row being sent right now keeps its address until the worker is done with it.
        rows.exclude(status=OutboxMessage.Status.SENDING).update(
            to="", reply_to="", body_text="", body_html="", headers={}, attachments=[], render={}
        )
