"""What the members app erases when a person deletes their account (their download is members.selectors)."""

from django.db.models import Q

from members.models import Invitation, MembershipApplication, Organisation
from members.services import application_anonymise


def members_erase(user) -> None:
    """Applications lose their contact person; answered invitations lose the address; an organisation whose billing
    contact they were loses the contact's name and address (its invoices then go to its first admin). Roles go with
    the user row, and an organisation's last admin never gets here (see selectors.account_deletion_blockers)."""
    for application in MembershipApplication.objects.filter(Q(applicant=user) | Q(contact_email__iexact=user.email)):
        application_anonymise(application=application)
    Invitation.objects.filter(email__iexact=user.email).exclude(status=Invitation.Status.PENDING).update(email="")
    for organisation in Organisation.objects.filter(billing_email__iexact=user.email):
        organisation.billing_contact_name = ""
        organisation.billing_email = ""
        organisation.save(update_fields=["billing_contact_name", "billing_email", "updated_at"])
