"""Mail as the worker sends it, for tests that read the outbox without a worker running."""

from outbox.api import message_render


def rendered(message):
    """`message` (an outbox row), rendered first when it was written for the worker to render, as the worker
    does just before it sends (outbox.rendering). Returns the row."""
    assert message_render(message), f"the mail to {message.to} was no longer owed when rendered"
    return message
