"""Reads of organisations and memberships, scoped to who asks."""

from django.db.models import QuerySet
from django.utils import timezone

from members.models import Membership, Organisation


def organisations_with_active_membership(*, on=None) -> QuerySet[Organisation]:
    on = on or timezone.localdate()
    return Organisation.objects.filter(
        memberships__status=Membership.Status.ACTIVE,
        memberships__period_start__lte=on,
        memberships__period_end__gte=on,
    ).distinct()


def user_organisations(*, user) -> QuerySet[Organisation]:
    """The organisations a person acts for, in any role."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=user).distinct()


def user_member_organisations(*, user) -> QuerySet[Organisation]:
    """The organisations with an active membership that this person acts for: what makes them a member."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return organisations_with_active_membership().filter(roles__user=user)


def user_is_member(*, user) -> bool:
    return user_member_organisations(user=user).exists()
