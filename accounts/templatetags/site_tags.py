"""Template helpers for the site shell."""

from django import template
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri

register = template.Library()


@register.simple_tag(takes_context=True)
def url_in_language(context, language_code):
    """The current page in another language, so the switcher keeps you where you are. It is built from the resolved
    route alone, never by parsing the requested path as a URL (`//evil.example/da/events/` would keep its host), so
    it always stays on this site. A path that names no page, and the error pages Django renders without a request
    (400, 500, CSRF failure), link to the home page in that language instead."""
    request = context.get("request")
    try:
        match = resolve(request.path_info) if request is not None else None
    except Resolver404:
        match = None
    with translation.override(language_code):
        if match is None:
            return reverse("home")
        try:
            url = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return reverse("home")
    query = request.META.get("QUERY_STRING", "")
    return f"{url}?{iri_to_uri(query)}" if query else url


@register.filter
def html_datetime(value):
    """A moment for `<time datetime>`: ISO 8601 in local time to the second. Django's `date:'c'` adds
    microseconds, which HTML does not allow (a fraction of a second has at most three digits)."""
    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()
