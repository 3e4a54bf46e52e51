"""The members app: registers its "my account" section, its part of a person's data and the directory's receivers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members and partners")

    def ready(self):
        from accounts.personal_data import personal_data_register
        from accounts.portal import portal_section_register
        from members import selectors
        from members.personal_data import members_erase
        from members.receivers import directory_receivers_connect

        directory_receivers_connect()

        portal_section_register(order=10, template="members/_portal_section.html", context=selectors.portal_context)
        personal_data_register(
            key="members",
            title=_("Organisations, applications and invitations"),
            # Organisation: its billing contact's name and email; Membership: who cancelled it (SET_NULL with the user).
            models=[
                "members.MembershipApplication",
                "members.OrganisationRole",
                "members.Invitation",
                "members.Organisation",
                "members.Membership",
            ],
            collect=lambda user: selectors.personal_data(user=user),
            erase=members_erase,
            deletion_blockers=lambda user: selectors.account_deletion_blockers(user=user),
        )
