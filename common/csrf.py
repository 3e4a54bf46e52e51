"""A page rendered once and served to many visitors, whose only part of each visitor's own is the CSRF token of its
forms: it is stored with a marker where the token was, and each visitor gets their own token in its place."""

import re

from django.middleware.csrf import get_token

# NUL never occurs in a page we render (PostgreSQL text cannot hold it, and requests carrying it are refused).
MARK = b"\x00csrf-token\x00"
# What Django's {% csrf_token %} renders.
_TOKEN_FIELD = re.compile(rb'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')


def csrf_token_mark(content: bytes) -> bytes:
    """`content` with every form's CSRF token replaced by the marker."""
    return _TOKEN_FIELD.sub(lambda found: found[1] + MARK + found[2], content)


def csrf_token_fill(content: bytes, request) -> bytes:
    """A stored page with the request's own CSRF token where the marker is (and its cookie set, as the template
    tag would)."""
    if MARK not in content:
        return content
    return content.replace(MARK, get_token(request).encode())
