"""Reads on the outbox: the backlog and the halt for /healthz and the admin, a group's counts by status, which
dedupe keys are taken, the refusals a sender counts as bounces, and the sent mail whose bodies are due to go."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from outbox.models import DeliveryHalt, OutboxHold, OutboxMessage

Status = OutboxMessage.Status
Failure = OutboxMessage.Failure
# Still owed: a row in one of these may yet be sent.
WAITING = (Status.QUEUED, Status.SENDING, Status.RETRYING, Status.HELD)


def delivery_halted() -> DeliveryHalt | None:
    """The halt in force, if any: after it ends the next attempt asks the relay again."""
    return DeliveryHalt.objects.filter(until__gt=timezone.now()).order_by("-until").first()


def outbox_backlog() -> dict:
    """Figures for /healthz and the admin: what is waiting and how old the oldest waiting row is. `held` counts
    the copies of paused campaigns: they wait on a person, not on the outbox, so they never age the backlog."""
    rows = OutboxMessage.objects.exclude(status=Status.SENT).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys((Status.QUEUED, Status.RETRYING, Status.SENDING, Status.FAILED, Status.HELD), 0)
    counts.update({row["status"]: row["n"] for row in rows})
    oldest = OutboxMessage.objects.filter(status__in=[Status.QUEUED, Status.RETRYING]).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    halt = delivery_halted()
    return {
        **{str(key): value for key, value in counts.items()},
        "oldest_waiting_seconds": int((timezone.now() - oldest).total_seconds()) if oldest else 0,
        "halted": {"reason": halt.reason, "since": halt.created_at.isoformat(), "until": halt.until.isoformat()}
        if halt
        else None,
    }


def sent_bodies_due(*, now):
    cutoff = now - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    kept = ~Q(body_text="") | ~Q(body_html="") | ~Q(attachments=[])
    return OutboxMessage.objects.filter(kept, status=Status.SENT, sent_at__lt=cutoff)


def sent_mail_bodies_due_count(*, now) -> int:
    return sent_bodies_due(now=now).count()


def group_status_counts(*, group: str) -> dict[str, int]:
    """How many of a group's mails are in each status, every status present. The counts come from the rows
    themselves: a sent row is never deleted (retention only empties its bodies), so it is counted as sent for
    as long as the group exists, and nothing is counted as sent that was not."""
    counts = dict.fromkeys((str(status) for status in Status), 0)
    rows = OutboxMessage.objects.filter(group_key=group).values("status").annotate(n=Count("pk"))
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def group_waiting(*, group: str) -> bool:
    """True while any mail of the group may still be sent (queued, sending, retrying or held)."""
    return OutboxMessage.objects.filter(group_key=group, status__in=WAITING).exists()


def group_deferred(*, group: str) -> tuple[int, str]:
    """How many of the group's mails wait for a retry after a deferral (4xx, or no server), and the last error."""
    deferred = OutboxMessage.objects.filter(group_key=group, status=Status.RETRYING, failure=Failure.TRANSIENT)
    count = deferred.count()
    last_error = deferred.order_by("-pk").values_list("last_error", flat=True).first() if count else ""
    return count, last_error or ""


def group_is_held(*, group: str) -> bool:
    return OutboxHold.objects.filter(group_key=group).exists()


def messages_refused(*, ids: Iterable[int] | QuerySet) -> dict[int, str]:
    """Among `ids` (a list, or a queryset of ids run as a subquery), the mails the relay refused for good (a 5xx
    for the recipient), each with the server's answer."""
    return dict(
        OutboxMessage.objects.filter(pk__in=ids, status=Status.FAILED, failure=Failure.PERMANENT).values_list(
            "pk", "last_error"
        )
    )


def dedupe_keys_taken(*, keys: Iterable[str] = (), prefix: str = "") -> set[str]:
    """The dedupe keys among `keys`, or starting with `prefix`, that a row holds already: such a mail is written
    once and is not owed again."""
    keys = list(keys)
    if not keys and not prefix:
        return set()
    matches = Q(dedupe_key__in=keys) if keys else Q()
    if prefix:
        matches &= Q(dedupe_key__startswith=prefix)
    return set(OutboxMessage.objects.filter(matches).values_list("dedupe_key", flat=True))
