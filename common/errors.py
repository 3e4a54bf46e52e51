"""The domain errors every app raises. A `DomainError` carries a translated message that a view, a form or an
admin action shows to the person as it is; `InvalidTransition` is the one a model raises when asked for a state
change its current state does not allow."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain was broken; `message` is translated and safe to show as it is."""

    message = _("This could not be done.")

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(str(self.message))

    def __str__(self) -> str:
        # Evaluated late, so the message follows the language active where it is shown.
        return str(self.message)


class InvalidTransition(DomainError):
    message = _("This change is not possible in the current state.")
