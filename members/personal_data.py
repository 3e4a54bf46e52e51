"""What the members app erases when a person deletes their account (their download is members.selectors)."""

from django.db.models import Q

from members.models import Invitation, MembershipApplication
from members.services import application_anonymise


def members_erase(user) -> None:
    """Applications lose their contact person; answered invitations lose the address. Roles go with the user row,
    and an organisation's last admin never gets here (see selectors.account_deletion_blockers)."""
    for application in MembershipApplication.objects.filter(Q(applicant=user) | Q(contact_email__iexact=user.email)):
        application_anonymise(application=application)
    Invitation.objects.filter(email__iexact=user.email).exclude(status=Invitation.Status.PENDING).update(email="")
