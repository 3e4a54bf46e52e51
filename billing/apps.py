"""The billing app: invoices and credit notes in gapless series, payments and dunning, the PDF and Peppol UBL.

Customer data is copied onto each document when it is issued, so billing never imports members."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from accounts.personal_data import personal_data_register
        from billing.personal_data import billing_collect, billing_erase

        personal_data_register(
            key="billing",
            title=_("Invoices addressed to you"),
            models=["billing.Invoice", "billing.Payment"],
            collect=billing_collect,
            erase=billing_erase,
        )
