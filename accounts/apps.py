from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from allauth.mfa.models import Authenticator

        from accounts.personal_data import account_collect, account_erase, personal_data_register
        from outbox.personal_data import outbox_collect, outbox_erase

        # allauth leaves the model's names to Django's English default, so the admin showed "Authenticators".
        Authenticator._meta.verbose_name = _("authenticator")
        Authenticator._meta.verbose_name_plural = _("authenticators")

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
