"""Template helpers for the site shell."""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

register = template.Library()

# Parts of the shell rendered once per process: (name, language, signed in) -> HTML.
_shell_fragments: dict[tuple[str, str, bool], str] = {}


class ShellFragmentNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name = name
        self.nodelist = nodelist

    def render(self, context):
        user = context.get("user")
        key = (self.name, translation.get_language(), bool(user is not None and user.is_authenticated))
        fragment = _shell_fragments.get(key)
        if fragment is None:
            fragment = _shell_fragments[key] = self.nodelist.render(context)
        return fragment


@register.tag
def shell_fragment(parser, token):
    """`{% shell_fragment "footer" %}...{% endshell_fragment %}`: a part of every page that depends on nothing but
    the language and whether the visitor is signed in (the main navigation, the footer). It is rendered once per
    process for each pair and then reused: its dozen URL reversals and translations were a fifth of the time a
    signed-in member's page took. Nothing inside may depend on the request, who the user is, or a CSRF token."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "'\"" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("shell_fragment takes one quoted name")
    nodelist = parser.parse(("endshell_fragment",))
    parser.delete_first_token()
    return ShellFragmentNode(bits[1][1:-1], nodelist)


@receiver(setting_changed)
def _shell_fragments_forget(**kwargs):
    """A test that changes the URLs, the languages or anything else renders the shell afresh."""
    _shell_fragments.clear()


@register.simple_tag(takes_context=True)
def url_in_language(context, language_code):
    """The current page in another language, so the switcher keeps you where you are. It is built from the resolved
    route alone, never by parsing the requested path as a URL (`//evil.example/da/events/` would keep its host), so
    it always stays on this site. A path that names no page, and the error pages Django renders without a request
    (400, 500, CSRF failure), link to the home page in that language instead."""
    request = context.get("request")
    # The route Django resolved for this request; error pages rendered without one resolve the path here.
    match = getattr(request, "resolver_match", None)
    if match is None and request is not None:
        try:
            match = resolve(request.path_info)
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


@register.simple_tag(takes_context=True)
def language_switcher(context):
    """The header's switch to the other languages, each a link to this same page (url_in_language). Written in
    Python: as template tags, loop and lookups it was a tenth of a signed-in member's directory page."""
    current = translation.get_language()
    items = []
    for code, _name in settings.LANGUAGES:
        if code == current:
            items.append(
                format_html(
                    '<span class="current-language" aria-current="true" lang="{0}">{1}</span>', code, code.upper()
                )
            )
        else:
            title = translation.get_language_info(code)["name_local"]
            url = url_in_language(context, code)
            items.append(
                format_html(
                    '<a href="{0}" hreflang="{1}" lang="{1}" title="{2}">{3}</a>', url, code, title, code.upper()
                )
            )
    return format_html(
        '<nav class="language-switcher" aria-label="{}">{}</nav>',
        _("Language"),
        format_html_join("", "{}", ((item,) for item in items)),
    )


@register.filter
def html_datetime(value):
    """A moment for `<time datetime>`: ISO 8601 in local time to the second. Django's `date:'c'` adds
    microseconds, which HTML does not allow (a fraction of a second has at most three digits)."""
    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()
