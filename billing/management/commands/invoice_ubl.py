"""Write the Peppol BIS Billing 3.0 UBL of issued invoices and credit notes into a folder."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.services import BillingError
from billing.ubl import invoice_ubl_write


class Command(BaseCommand):
    help = (
        "Write <number>.xml (Peppol BIS Billing 3.0) for the named issued documents; with no number for every issued "
        "document whose buyer has an EAN; with --all for every issued document."
    )

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", metavar="NUMBER", help="e.g. F2027-00017 or K2027-00003")
        parser.add_argument("--out", required=True, type=Path, help="folder to write into (made if missing)")
        parser.add_argument("--all", action="store_true", dest="everything", help="every issued document")

    def handle(self, *args, numbers, out, everything, **options):
        try:
            export = invoice_ubl_write(out_dir=out, numbers=numbers, everything=everything)
        except BillingError as error:
            raise CommandError(str(error)) from None
        for number in export.skipped:
            self.stderr.write(
                _("%(number)s skipped: the buyer has neither an EAN nor a CVR number.") % {"number": number}
            )
        count = len(export.written)
        self.stdout.write(
            ngettext("Wrote %(count)d file to %(folder)s.", "Wrote %(count)d files to %(folder)s.", count)
            % {"count": count, "folder": out}
        )
