"""Writes on users."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from common.locks import lock_one


def user_create(
    *,
    email: str,
    password: str | None,
    full_name: str = "",
    preferred_language: str = "da",
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
) -> User:
    """Create a user with allauth's email record, so that login and verification treat it like a sign-up."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            full_name=full_name,
            preferred_language=preferred_language,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    return user


class AccountDeletionBlocked(Exception):
    """Something must happen first (e.g. handing on an organisation's admin role); the messages say what."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def user_delete(*, user: User) -> None:
    """Delete the account: every app first erases or anonymises what it keeps about the person (cancelling their
    upcoming places and meetings, telling those affected), then the user row and what hangs on it goes.
    Organisations and audit rows stay (the actor becomes empty)."""
    from accounts.audit import audit_record
    from accounts.personal_data import account_deletion_blockers, personal_data_erase

    with transaction.atomic():
        # By pk: the caller may hold request.user, a lazy wrapper rather than a User.
        user = lock_one(User.objects.all(), pk=user.pk)
        if user is None:
            raise User.DoesNotExist("the user is gone")
        blockers = account_deletion_blockers(user=user)
        if blockers:
            raise AccountDeletionBlocked(blockers)
        personal_data_erase(user=user)
        audit_record(actor=None, action="accounts.user.delete", data={"user_id": user.pk})
        user.delete()
