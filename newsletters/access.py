"""Topics reserved for members. Which topics are reserved, and which of them a person's membership includes, is
the members app's to say; newsletters may not import members (the layers), so the project wires the two
together at start-up (`dlsc.apps`). Without that wiring no topic is reserved."""

from collections.abc import Callable

_reserved: Callable[[], frozenset[str]] = frozenset
_included: Callable[[object], frozenset[str]] = lambda user: frozenset()  # noqa: E731


def topic_access_register(*, reserved: Callable[[], frozenset[str]], included: Callable[[object], frozenset[str]]):
    """`reserved()`: slugs of the topics only some members may have; `included(user)`: those this person's
    membership includes."""
    global _reserved, _included
    _reserved, _included = reserved, included


def topics_refused(*, slugs, user=None) -> set[str]:
    """The reserved topics among `slugs` that `user` (None: someone not logged in) may not have."""
    reserved = set(slugs) & set(_reserved())
    if not reserved:
        return set()
    allowed = _included(user) if user is not None and getattr(user, "is_authenticated", False) else frozenset()
    return reserved - set(allowed)


def topics_hidden(*, user=None) -> set[str]:
    """The reserved topics a form does not offer to `user`."""
    return topics_refused(slugs=_reserved(), user=user)
