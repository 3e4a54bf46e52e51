from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = _("Regions and hubs")

    def ready(self):
        from accounts.personal_data import personal_data_register
        from hubs.personal_data import hubs_collect

        # Hub staff links go with the user row; the hub's contact address is an office address, not a person's.
        personal_data_register(key="hubs", title=_("Hubs"), models=["hubs.Hub"], collect=hubs_collect)
