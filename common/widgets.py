"""Form widgets of our own, and the escaping for markup written out in Python."""

import html

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def escape_text(value) -> str:
    """What Django's escape() gives, as a plain str, for markup written out in Python: escape() runs html.escape()
    behind a check of its arguments for lazy translations that cost more than the escaping (a page of directory
    cards and filter options calls it hundreds of times)."""
    return html.escape(str(value))


def _attributes(attrs: dict) -> SafeString:
    """As django/forms/widgets/attrs.html writes them: in order, `True` as a bare name, `False` left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class LongSelect(forms.Select):
    """A select of hundreds of options (the countries), written out in Python. Django renders every option through
    a template include of its own: for 250 countries that took 45 ms, three quarters of the application page. The
    markup is Django's: the same attributes, `selected` on the chosen option, option groups where there are any."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            markup = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((option["value"], _attributes(option["attrs"]), option["label"]) for option in options),
            )
            if group_name:
                markup = format_html('<optgroup label="{}">{}</optgroup>', group_name, markup)
            groups.append(markup)
        # Every part was escaped by format_html above.
        options = mark_safe("".join(groups))  # noqa: S308
        return format_html('<select name="{}"{}>{}</select>', widget["name"], _attributes(widget["attrs"]), options)
