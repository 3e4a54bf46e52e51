from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts.personal_data import account_collect, account_erase, personal_data_register
        from outbox.personal_data import outbox_collect, outbox_erase

        personal_data_register(
            key="account",
            title=_("Your account"),
            models=[
                "accounts.User",
                "accounts.AuditEntry",
                "account.EmailAddress",
                "mfa.Authenticator",
                "admin.LogEntry",
            ],
            collect=account_collect,
            erase=account_erase,
            erase_order=90,
        )
        # The outbox sits below accounts and registers nothing itself; its own module handles its rows.
        personal_data_register(
            key="outbox",
            title=_("Mails we sent you"),
            models=["outbox.OutboxMessage"],
            collect=outbox_collect,
            erase=outbox_erase,
            erase_order=95,
        )
