"""The invoice PDF: our HTML template rendered by WeasyPrint in the customer's language. Fonts and the logo are
read from our own static files (nothing is fetched from the network)."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from billing.models import Invoice
from billing.totals import totals_compute


def _static_file_url(path: str) -> str:
    return Path(finders.find(path)).as_uri()


def invoice_html(*, invoice: Invoice) -> str:
    lines = list(invoice.lines.all())
    with translation.override(invoice.language):
        return render_to_string(
            "billing/invoice_pdf.html",
            {
                "invoice": invoice,
                "lines": lines,
                "totals": totals_compute(lines),
                "seller": settings.BILLING_SELLER,
                "language": invoice.language,
                "logo_url": _static_file_url("img/logo.svg"),
            },
        )


def invoice_pdf_render(*, invoice: Invoice) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Only local files (our static logo): a PDF never reaches the network.
    fetcher = URLFetcher(allowed_protocols=["file"], fail_on_errors=True)
    return HTML(string=invoice_html(invoice=invoice), url_fetcher=fetcher).write_pdf()
