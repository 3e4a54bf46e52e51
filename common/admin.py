from collections.abc import Callable, Iterable

from django import forms
from django.contrib import messages
from django.db import models

from common.errors import DomainError


class LabelledFileInput(forms.ClearableFileInput):
    """A file input with a <label> of its own. Django renders its file input in a fieldset whose legend names the
    group and leaves the input itself unnamed, which axe reports as a critical fault (label)."""

    use_fieldset = False


# What every admin with a file or a list of choices shows: labelled file inputs, and checkboxes rather than the
# filter_horizontal widget, whose script gives its search icons a label that screen readers are told to ignore
# (axe: aria-prohibited-attr). Autocomplete fields keep their own widget (Django lets theirs win).
ACCESSIBLE_FORMFIELDS = {
    models.ImageField: {"widget": LabelledFileInput},
    models.FileField: {"widget": LabelledFileInput},
    models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
}


class ReadOnlyAdminMixin:
    """A record kept for looking up (an audit trail, a ledger, a payment, a solver run): the admin lists and shows
    it, and never adds, changes or deletes one; the services write them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
