"""Template helpers for the site shell."""

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def url_in_language(context, language_code):
    """The current page in another language, so the switcher keeps you where you are."""
    request = context["request"]
    return translate_url(request.get_full_path(), language_code)
