from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = _("Regions and hubs")

    def ready(self):
        from accounts.personal_data import personal_data_register
        from hubs.personal_data import hubs_collect, hubs_erase

        # Hub staff links go with the user row; a contact card on a hub page goes with the person whose address it
        # carries. The hub's own contact address is an office address, not a person's.
        personal_data_register(
            key="hubs",
            title=_("Hubs"),
            models=["hubs.Hub", "hubs.HubContact"],
            collect=hubs_collect,
            erase=hubs_erase,
        )
