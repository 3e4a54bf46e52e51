"""The outbox's part of the demo: mail that the demo's history says went out weeks ago is marked sent then."""

from outbox.models import OutboxMessage


def messages_mark_sent_in_the_past(*, ids: list[int], sent_at) -> int:
    """Demo data only: the rows become sent at `sent_at` without being mailed now."""
    return OutboxMessage.objects.filter(pk__in=ids).update(
        status=OutboxMessage.Status.SENT, sent_at=sent_at, attempts=1
    )
