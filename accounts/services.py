"""Writes on users."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User


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


def user_delete(*, user: User) -> None:
    """Delete the account and what hangs on it; organisations and audit rows stay (the actor becomes empty)."""
    from accounts.audit import audit_record

    with transaction.atomic():
        audit_record(actor=None, action="accounts.user.delete", data={"user_id": user.pk})
        user.delete()
