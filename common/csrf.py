"""A page rendered once and served to many visitors, whose only part of each visitor's own is the CSRF token of its
forms: it is stored with a marker where the token was, and each visitor gets their own token in its place."""

import re

from django.middleware.csrf import get_token

# NUL never occurs in a page we render (PostgreSQL text cannot hold it, and requests carrying it are refused).
MARK = b"\x00csrf-token\x00"
# What Django's {% csrf_token %} renders.
_TOKEN_FIELD = re.compile(rb'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')


def csrf_token_mark(content: bytes) -> bytes | None:
    """`content` with every form's CSRF token replaced by the marker; None when it holds a token written some other
    way, which would be served to everyone else: such a page must not be stored."""
    marked, count = _TOKEN_FIELD.subn(lambda found: found[1] + MARK + found[2], content)
    return marked if content.count(b"csrfmiddlewaretoken") == count else None


def csrf_token_fill(content: bytes, request) -> bytes:
    """A stored page with the request's own CSRF token where the marker is (and its cookie set, as the template
    tag would)."""
    if MARK not in content:
        return content
    return content.replace(MARK, get_token(request).encode())
