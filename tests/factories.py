"""factory-boy factories shared across the test suite."""

import factory
from allauth.account.models import EmailAddress

from accounts.models import User

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    preferred_language = "da"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=extracted is not False)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


# --- members ----------------------------------------------------------------------------------------


def cvr_valid(n: int) -> str:
    """A valid CVR number (modulus 11 with weights 2,7,6,5,4,3,2,1) derived from n."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    base = 2000000 + n * 13
    while True:
        digits = str(base)[:7]
        check = -sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
        if check < 10:
            return digits + str(check)
        base += 1


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.Organisation"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Testfirma {n} ApS")
    legal_name = factory.LazyAttribute(lambda o: o.name)
    slug = factory.Sequence(lambda n: f"testfirma-{n}")
    cvr = factory.Sequence(cvr_valid)
    kind = "company"
    size_band = "10-49"
    city = "Aarhus"
    listed_in_directory = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.Membership"

    organisation = factory.SubFactory(OrganisationFactory)
    status = "active"
    period_start = factory.LazyFunction(lambda: _today() - _days(30))
    period_end = factory.LazyFunction(lambda: _today() + _days(335))
    fee_dkk = 7500
    paid_on = factory.LazyFunction(lambda: _today() - _days(29))


class OrganisationRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.OrganisationRole"

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = "admin"


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _days(n):
    from datetime import timedelta

    return timedelta(days=n)


def member_organisation_create(**kwargs):
    """An organisation with an active, paid membership: a member the directory lists."""
    organisation = OrganisationFactory(**kwargs)
    MembershipFactory(organisation=organisation)
    return organisation
