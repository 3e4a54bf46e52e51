"""The member domain's services: applications, memberships, roles, invitations and reminders."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from accounts.models import AuditEntry, User
from members import services
from members.models import (
    InvalidTransition,
    Invitation,
    Membership,
    MembershipApplication,
    Organisation,
    OrganisationRole,
    Segment,
)
from outbox.models import OutboxMessage
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    OrganisationRoleFactory,
    StaffFactory,
    UserFactory,
    cvr_valid,
)

pytestmark = pytest.mark.django_db


def application_data(**overrides):
    from hubs.models import Region

    data = {
        "name": "Fjordbio",
        "legal_name": "Fjordbio ApS",
        "cvr": cvr_valid(901),
        "kind": "company",
        "country": "DK",
        "size_band": "1-9",
        "website": "https://fjordbio.example",
        "address": "Fjordvej 1",
        "postcode": "8000",
        "city": "Aarhus",
        "region": Region.objects.get(code="midtjylland"),
        "contact_name": "Freja Fjord",
        "contact_email": "Freja@Fjordbio.example",
        "contact_phone": "",
        "language": "en",
    }
    return {**data, **overrides}


def submit(**overrides):
    from django.test import RequestFactory

    return services.application_submit(
        data=application_data(**overrides),
        segments=Segment.objects.filter(code="biotech"),
        password="x-Secret-2026!",
        request=RequestFactory().get("/"),
    )


def test_application_submit_creates_a_pending_application_and_an_unverified_account():
    application = submit()
    user = User.objects.get(email="freja@fjordbio.example")
    assert (application.status, application.applicant, application.contact_email) == (
        "pending",
        user,
        "freja@fjordbio.example",
    )
    assert user.emailaddress_set.get().verified is False


def test_application_submit_links_an_existing_account_without_a_new_one():
    existing = UserFactory(email="freja@fjordbio.example")
    application = submit()
    assert application.applicant == existing
    assert User.objects.filter(email__iexact="freja@fjordbio.example").count() == 1


def test_application_approve_creates_organisation_membership_roles_and_welcome_mail():
    application = submit()
    staff = StaffFactory()
    organisation = services.application_approve(application=application, approved_by=staff)
    membership = organisation.memberships.get()
    assert (organisation.name, organisation.cvr, organisation.hub.slug) == ("Fjordbio", cvr_valid(901), "aarhus")
    assert (membership.status, membership.fee_dkk) == ("active", 2500)
    assert sorted(OrganisationRole.objects.filter(organisation=organisation).values_list("role", flat=True)) == [
        "admin",
        "billing",
    ]
    welcome = OutboxMessage.objects.get(template="members/email/welcome")
    assert (welcome.to, welcome.language) == ("freja@fjordbio.example", "en")
    assert welcome.subject == "Welcome to the Danish Life Science Cluster, Fjordbio"


def test_application_approve_leaves_an_audit_row():
    application = submit()
    staff = StaffFactory()
    services.application_approve(application=application, approved_by=staff)
    entry = AuditEntry.objects.get(action="members.application.approve")
    assert (entry.actor, entry.target_id) == (staff, str(application.pk))


def test_application_approve_twice_raises():
    application = submit()
    staff = StaffFactory()
    services.application_approve(application=application, approved_by=staff)
    with pytest.raises(InvalidTransition):
        services.application_approve(application=application, approved_by=staff)
    assert Organisation.objects.count() == 1


def test_application_reject_records_reason_and_mails_it():
    application = submit()
    staff = StaffFactory()
    services.application_reject(application=application, rejected_by=staff, reason="Not in life science.")
    application.refresh_from_db()
    assert (application.status, application.rejection_reason) == ("rejected", "Not in life science.")
    mail = OutboxMessage.objects.get(template="members/email/application_rejected")
    assert "Not in life science." in mail.body_text
    assert AuditEntry.objects.filter(action="members.application.reject", actor=staff).count() == 1


def test_membership_renewal_reminders_are_sent_once_each_to_the_billing_contact():
    today = timezone.localdate()
    membership = MembershipFactory(period_start=today - timedelta(days=335), period_end=today + timedelta(days=30))
    billing = OrganisationRoleFactory(organisation=membership.organisation, role="billing").user
    OrganisationRoleFactory(organisation=membership.organisation, role="admin")
    assert services.membership_renewal_reminders_send(today=today) == 1
    assert services.membership_renewal_reminders_send(today=today) == 0
    assert services.membership_renewal_reminders_send(today=today + timedelta(days=23)) == 1
    assert services.membership_renewal_reminders_send(today=today + timedelta(days=24)) == 0
    mails = OutboxMessage.objects.filter(template="members/email/renewal_reminder").order_by("pk")
    assert [(m.to, m.dedupe_key) for m in mails] == [
        (billing.email, f"membership-renewal:{membership.pk}:30:{billing.pk}"),
        (billing.email, f"membership-renewal:{membership.pk}:7:{billing.pk}"),
    ]


def test_renewal_reminder_is_not_sent_when_the_next_period_is_paid():
    today = timezone.localdate()
    membership = MembershipFactory(period_start=today - timedelta(days=335), period_end=today + timedelta(days=30))
    OrganisationRoleFactory(organisation=membership.organisation, role="billing")
    renewal = services.membership_renew(membership=membership, by=None)
    services.membership_mark_paid(membership=renewal, by=None, paid_on=today)
    assert services.membership_renewal_reminders_send(today=today) == 0


def test_unpaid_membership_expires_after_the_grace_period(settings):
    settings.MEMBERSHIP_GRACE_DAYS = 30
    today = timezone.localdate()
    unpaid = MembershipFactory(period_start=today - timedelta(days=31), paid_on=None)
    within_grace = MembershipFactory(period_start=today - timedelta(days=29), paid_on=None)
    paid = MembershipFactory(period_start=today - timedelta(days=31))
    assert services.memberships_expire(today=today) == 1
    statuses = {m.pk: m.status for m in Membership.objects.all()}
    assert statuses == {unpaid.pk: "expired", within_grace.pk: "active", paid.pk: "active"}


def test_expired_membership_ends_member_privileges():
    from members.selectors import user_is_member

    today = timezone.localdate()
    membership = MembershipFactory(period_start=today - timedelta(days=40), paid_on=None)
    user = OrganisationRoleFactory(organisation=membership.organisation, role="member").user
    assert user_is_member(user=user) is True
    services.memberships_expire(today=today)
    assert user_is_member(user=user) is False


def test_membership_mark_paid_activates_a_pending_membership_and_audits():
    membership = MembershipFactory(status="pending", paid_on=None)
    staff = StaffFactory()
    services.membership_mark_paid(membership=membership, by=staff, paid_on=timezone.localdate())
    membership.refresh_from_db()
    assert (membership.status, membership.paid_on) == ("active", timezone.localdate())
    assert AuditEntry.objects.filter(action="members.membership.paid", actor=staff).count() == 1


def test_membership_renew_books_the_next_year():
    membership = MembershipFactory()
    renewal = services.membership_renew(membership=membership, by=None)
    assert (renewal.period_start, renewal.status, renewal.fee_dkk) == (
        membership.period_end + timedelta(days=1),
        "active",
        7500,
    )


def test_cancelled_membership_cannot_be_marked_paid():
    membership = MembershipFactory(status="cancelled", paid_on=None)
    with pytest.raises(InvalidTransition):
        services.membership_mark_paid(membership=membership, by=None)


def test_last_admin_cannot_be_removed():
    role = OrganisationRoleFactory(role="admin")
    with pytest.raises(services.MembersError):
        services.colleague_remove(organisation=role.organisation, user=role.user, by=role.user)
    assert OrganisationRole.objects.filter(pk=role.pk).exists()


def test_admin_hand_on_moves_the_role_and_audits():
    role = OrganisationRoleFactory(role="admin")
    colleague = OrganisationRoleFactory(organisation=role.organisation, role="member").user
    services.admin_hand_on(organisation=role.organisation, from_user=role.user, to_user=colleague, by=role.user)
    roles = set(OrganisationRole.objects.filter(organisation=role.organisation).values_list("user__email", "role"))
    assert roles == {(role.user.email, "member"), (colleague.email, "admin"), (colleague.email, "member")}
    assert AuditEntry.objects.filter(action="members.role.hand_on").count() == 1


def test_invitation_accept_with_an_existing_account_grants_the_role_once():
    inviter = OrganisationRoleFactory(role="admin")
    invitee = UserFactory(email="ida@example.com")
    invitation = services.invitation_create(
        organisation=inviter.organisation, email="Ida@example.com", role="member", invited_by=inviter.user
    )
    found = services.invitation_from_token(token=services.invitation_token(invitation))
    services.invitation_accept(invitation=found, user=invitee)
    assert OrganisationRole.objects.filter(organisation=inviter.organisation, user=invitee, role="member").exists()
    with pytest.raises(services.InvitationInvalid):
        services.invitation_from_token(token=services.invitation_token(invitation))


def test_invitation_accept_creates_a_verified_account_for_a_newcomer():
    inviter = OrganisationRoleFactory(role="admin")
    invitation = services.invitation_create(
        organisation=inviter.organisation, email="new@example.com", role="billing", invited_by=inviter.user
    )
    user = services.invitation_accept_new_account(invitation=invitation, full_name="Ny Kollega", password="x-Pw-2026!")
    assert user.emailaddress_set.get().verified is True
    assert OrganisationRole.objects.get(organisation=inviter.organisation, user=user).role == "billing"


def test_invitation_token_tampered_is_refused():
    inviter = OrganisationRoleFactory(role="admin")
    invitation = services.invitation_create(
        organisation=inviter.organisation, email="x@example.com", role="member", invited_by=inviter.user
    )
    token = services.invitation_token(invitation)
    with pytest.raises(services.InvitationInvalid, match=r"^Dette invitationslink er ikke gyldigt\.$"):
        services.invitation_from_token(token=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_invitation_token_expired_is_refused():
    inviter = OrganisationRoleFactory(role="admin")
    invitation = services.invitation_create(
        organisation=inviter.organisation, email="x@example.com", role="member", invited_by=inviter.user
    )
    old = signing.TimestampSigner(salt=services.INVITATION_SALT)
    old.timestamp = lambda: signing.b62_encode(int(timezone.now().timestamp()) - 15 * 24 * 3600)
    token = old.sign_object({"i": invitation.pk, "n": invitation.nonce}, compress=True)
    with pytest.raises(services.InvitationInvalid, match=r"^Invitationen er udløbet\."):
        services.invitation_from_token(token=token)


def test_invitation_for_another_address_is_refused():
    inviter = OrganisationRoleFactory(role="admin")
    invitation = services.invitation_create(
        organisation=inviter.organisation, email="x@example.com", role="member", invited_by=inviter.user
    )
    with pytest.raises(services.InvitationInvalid):
        services.invitation_accept(invitation=invitation, user=UserFactory(email="y@example.com"))
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_new_invitation_revokes_the_open_one_to_the_same_address():
    inviter = OrganisationRoleFactory(role="admin")
    first = services.invitation_create(
        organisation=inviter.organisation, email="x@example.com", role="member", invited_by=inviter.user
    )
    services.invitation_create(
        organisation=inviter.organisation, email="X@example.com", role="admin", invited_by=inviter.user
    )
    assert Invitation.objects.get(pk=first.pk).status == "revoked"


def test_search_vector_finds_danish_word_forms():
    from tests.support.services import require_postgres

    require_postgres()
    organisation = OrganisationFactory(description_da="Vi udvikler robotter til genoptræning")
    MembershipFactory(organisation=organisation)
    services.organisation_search_refresh(organisation_ids=[organisation.pk])
    from members.directory import DirectoryFilters, directory_queryset

    assert list(directory_queryset(filters=DirectoryFilters(q="robot"))) == [organisation]


def test_application_for_a_pending_cvr_is_refused_by_the_database():
    from django.db import IntegrityError

    submit()
    with pytest.raises(IntegrityError):
        MembershipApplication.objects.create(
            **application_data(contact_email="other@example.com"), terms_accepted_at=timezone.now()
        )


def test_beat_runs_the_members_tasks(settings):
    from dlsc.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    members_tasks = {"members.tasks.membership_renewal_reminders_task", "members.tasks.memberships_expire_task"}
    assert members_tasks <= scheduled
    assert members_tasks <= set(app.tasks)


def test_renewal_reminder_task_sends_through_the_service():
    from members.tasks import membership_renewal_reminders_task

    today = timezone.localdate()
    membership = MembershipFactory(period_start=today - timedelta(days=358), period_end=today + timedelta(days=7))
    OrganisationRoleFactory(organisation=membership.organisation, role="admin")
    assert membership_renewal_reminders_task() == 1


def test_slug_spells_danish_letters_out():
    assert services.slug_unique(name="Bølge Sundhed Århus") == "boelge-sundhed-aarhus"
