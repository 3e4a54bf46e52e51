"""A page stored for many visitors carries a marker where the CSRF token was; each visitor gets their own."""

from django.middleware.csrf import _unmask_cipher_token
from django.template import Context, Template
from django.test import RequestFactory

from common.csrf import MARK, csrf_token_fill, csrf_token_mark

PAGE = Template(
    '<form method="post">{% csrf_token %}<input type="hidden" name="next" value="/da/"></form>'
    '<form method="post">{% csrf_token %}<button>Log ud</button></form>'
)


def test_every_token_is_marked_and_every_other_value_kept():
    request = RequestFactory().get("/")
    content = PAGE.render(Context({"csrf_token": "a" * 64, "request": request})).encode()
    marked = csrf_token_mark(content)
    assert marked == (
        b'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="' + MARK + b'">'
        b'<input type="hidden" name="next" value="/da/"></form>'
        b'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="' + MARK + b'">'
        b"<button>Log ud</button></form>"
    )


def test_each_request_gets_a_token_of_its_own_and_the_cookie_that_goes_with_it():
    marked = csrf_token_mark(PAGE.render(Context({"csrf_token": "a" * 64})).encode())
    first, second = RequestFactory().get("/"), RequestFactory().get("/")
    filled = [csrf_token_fill(marked, request) for request in (first, second)]
    tokens = [page.split(b'value="')[1].split(b'"')[0].decode() for page in filled]
    assert tokens[0] != tokens[1]
    assert [len(token) for token in tokens] == [64, 64]
    assert [page.count(token.encode()) for page, token in zip(filled, tokens, strict=True)] == [2, 2]
    assert MARK not in filled[0]
    # the secret behind the token is the one the response's cookie will carry
    assert _unmask_cipher_token(tokens[0]) == first.META["CSRF_COOKIE"]
    assert first.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_a_page_without_the_marker_is_served_as_stored():
    request = RequestFactory().get("/")
    assert csrf_token_fill(b"<p>Ingen formular</p>", request) == b"<p>Ingen formular</p>"
    assert "CSRF_COOKIE" not in request.META


def test_a_page_with_a_token_written_some_other_way_is_not_marked_so_never_stored():
    """Stored as it is, that token (a masked form of the first visitor's secret) would be served to everyone."""
    content = (
        b'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="aaa"></form>'
        b'<script>const token = {"csrfmiddlewaretoken": "bbb"};</script>'
    )
    assert csrf_token_mark(content) is None
    assert csrf_token_mark(b"<p>Ingen formular</p>") == b"<p>Ingen formular</p>"
