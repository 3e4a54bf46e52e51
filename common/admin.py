from collections.abc import Callable, Iterable

from django.contrib import messages

from common.errors import DomainError


def run_on_selected(
    modeladmin,
    request,
    rows: Iterable,
    service: Callable,
    *,
    done: Callable[[int], str],
    label: Callable = str,
) -> int:
    """Run `service(row)` for each selected row, each in its own service call (so one refusal leaves the others
    done), report every refusal by its row with the domain error's translated message, and the count of rows done.
    Returns that count."""
    count = 0
    for row in rows:
        try:
            service(row)
        except DomainError as error:
            modeladmin.message_user(request, f"{label(row)}: {error}", messages.WARNING)
            continue
        count += 1
    if count:
        modeladmin.message_user(request, done(count), messages.SUCCESS)
    return count
