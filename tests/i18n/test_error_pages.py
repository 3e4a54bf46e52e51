"""Error pages that Django renders without a request (400, 500, CSRF failure) still render, translated."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation


@pytest.mark.parametrize(
    ("template", "heading"),
    [
        ("400.html", "Vi kunne ikke forstå forespørgslen"),
        ("403_csrf.html", "Formularen er udløbet eller blev ikke sendt fra dette websted"),
        ("500.html", "Der gik noget galt hos os"),
    ],
)
def test_error_page_renders_in_danish_without_a_request(template, heading):
    with translation.override("da"):
        html = render_to_string(template)
    assert heading in html


def test_error_page_without_a_request_links_the_switcher_to_the_home_page():
    with translation.override("da"):
        html = render_to_string("400.html")
    assert '<a href="/en/" hreflang="en"' in html
