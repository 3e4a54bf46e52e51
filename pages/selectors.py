"""Reads of the fixed pages."""

import markdown
import nh3
from django.shortcuts import get_object_or_404
from django.utils.safestring import SafeString, mark_safe

from pages.models import Page


def page_get(*, kind: str) -> Page:
    return get_object_or_404(Page, kind=kind)


def page_body_html(*, page: Page) -> SafeString:
    """Staff write Markdown; what reaches the browser is sanitised HTML (no scripts, styles or event handlers)."""
    html = markdown.markdown(page.body, extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer"))  # noqa: S308 (nh3 has sanitised it)
