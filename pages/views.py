"""The privacy policy, contact page and imprint."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from pages.selectors import page_body_html, page_get


@require_GET
def page_detail(request, kind):
    page = page_get(kind=kind)
    return render(request, "pages/page.html", {"page": page, "body": page_body_html(page=page)})
