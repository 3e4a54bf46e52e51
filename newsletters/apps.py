"""The newsletters app: registers its section of the account page and its webhook receiver."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = _("Newsletters")

    def ready(self):
        from accounts.personal_data import personal_data_register
        from accounts.portal import portal_section_register
        from newsletters import signals  # noqa: F401 (connects the anymail tracking receiver)
        from newsletters.personal_data import newsletters_collect, newsletters_erase
        from newsletters.views import portal_section_context

        portal_section_register(order=50, template="newsletters/_portal_section.html", context=portal_section_context)
        # Campaign.created_by and ConsentRecord.actor name staff, and go empty with the user row.
        personal_data_register(
            key="newsletters",
            title=_("Newsletter subscription"),
            models=["newsletters.Subscriber", "newsletters.ConsentRecord", "newsletters.Campaign"],
            collect=newsletters_collect,
            erase=newsletters_erase,
        )
