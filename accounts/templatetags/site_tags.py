"""Template helpers for the site shell."""

from django import template
from django.urls import reverse, translate_url
from django.utils import translation

register = template.Library()


@register.simple_tag(takes_context=True)
def url_in_language(context, language_code):
    """The current page in another language, so the switcher keeps you where you are. Error pages that Django
    renders without a request (400, 500, CSRF failure) link to the home page in that language instead."""
    request = context.get("request")
    if request is None:
        with translation.override(language_code):
            return reverse("home")
    return translate_url(request.get_full_path(), language_code)
