"""Demo members: about 60 invented companies across segments, hubs and sizes, applied and approved through the
services, with memberships in every status and people in every role. Partners come from a data migration."""

from datetime import timedelta
from functools import cache

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import user_create
from billing.services import credit_note_issue
from hubs.models import Region
from members import services
from members.models import Membership, MembershipApplication, MembershipType, Organisation, Segment, Tag

TAGS = [
    ("ai", "Kunstig intelligens", "Artificial intelligence"),
    ("robotics", "Robotteknologi", "Robotics"),
    ("clinical-trials", "Kliniske forsøg", "Clinical trials"),
    ("regulatory", "Regulatorisk rådgivning (MDR)", "Regulatory affairs (MDR)"),
    ("sensors", "Sensorer og wearables", "Sensors and wearables"),
    ("telemedicine", "Telemedicin", "Telemedicine"),
    ("biomaterials", "Biomaterialer", "Biomaterials"),
    ("data-platforms", "Sundhedsdata", "Health data platforms"),
    ("manufacturing", "Produktion og GMP", "Manufacturing and GMP"),
    ("funding", "Kapital og finansiering", "Funding and investment"),
    ("rehabilitation", "Genoptræning", "Rehabilitation"),
    ("diagnostics", "Diagnostik", "Diagnostics"),
]

FIRST = ["Nord", "Fjord", "Lys", "Hav", "Skov", "Bølge", "Ege", "Kilde", "Stjerne", "Sol", "Vinge", "Klippe"]
SECOND = ["bio", "med", "care", "tech", "gen", "sense", "pharma", "health", "robotics", "vita"]
FORMS = ["ApS", "A/S", "IVS"]
CITIES = {
    "hovedstaden": [("2200", "København N"), ("2800", "Kongens Lyngby"), ("2970", "Hørsholm")],
    "sjaelland": [("4000", "Roskilde"), ("4700", "Næstved")],
    "midtjylland": [("8200", "Aarhus N"), ("7400", "Herning"), ("8700", "Horsens")],
    "syddanmark": [("5230", "Odense M"), ("6000", "Kolding"), ("6700", "Esbjerg")],
    "nordjylland": [("9220", "Aalborg Ø"), ("9800", "Hjørring")],
}
COMPANY_COUNT = 60
FIRST_NAMES = ["Anne", "Bo", "Cecilie", "Dorte", "Emil", "Frederik", "Gitte", "Henrik", "Ida", "Jonas", "Karen", "Lars"]
LAST_NAMES = ["Holm", "Kjær", "Lund", "Møller", "Nielsen", "Poulsen", "Riis", "Skov", "Thomsen", "Vestergaard"]


def seed(*, rng, stdout) -> None:
    _hub_staff_group()
    tags = _tags()
    if Organisation.objects.filter(slug__startswith="demo-").exists():
        return
    staff = User.objects.filter(is_superuser=True).order_by("pk").first()
    segments = list(Segment.objects.all())
    regions = list(Region.objects.all())
    today = timezone.localdate()
    for n in range(COMPANY_COUNT):
        name = f"{rng.choice(FIRST)}{rng.choice(SECOND)} {n + 1}"
        region = regions[n % len(regions)]
        postcode, city = rng.choice(CITIES.get(region.code, [("8000", "Aarhus C")]))
        admin = _person(rng, n, "admin")
        kind = "company" if n % 10 else rng.choice(["investor", "hospital", "other"])
        application = services.application_submit(
            data={
                "name": name,
                "legal_name": f"{name} {rng.choice(FORMS)}",
                "cvr": _cvr(n),
                "kind": kind,
                "membership_type": _demo_type(n, kind),
                "country": "DK",
                "size_band": [choice for choice, _ in Organisation.SizeBand.choices][n % 4],
                "website": f"https://{name.lower().replace(' ', '-')}.example",
                "address": f"Innovationsvej {n + 1}",
                "postcode": postcode,
                "city": city,
                "region": region,
                "contact_name": admin.full_name,
                "contact_email": admin.email,
                "contact_phone": f"+45 20 {n:02d} 00 00",
                "language": "da" if n % 3 else "en",
            },
            segments=rng.sample(segments, k=1 + n % 3),
            password=None,
            user=admin,
        )
        if n >= COMPANY_COUNT - 3:
            continue  # a few applications wait for staff
        organisation = services.application_approve(application=application, approved_by=staff)
        _profile(rng, organisation, tags, staff)
        _people(rng, n, organisation, admin)
        _billing_details(n, organisation, staff)
        _membership_story(n, organisation, staff, today)
    _public_bodies(staff, today)
    _credit_note(staff)
    services.memberships_expire(today=today)
    rejected = MembershipApplication.objects.filter(status=MembershipApplication.Status.PENDING).first()
    services.application_reject(
        application=rejected, rejected_by=staff, reason="Demo: outside the cluster's fields (example of a rejection)."
    )
    member_user = User.objects.filter(email="member@dlsc.example").first()
    first = Organisation.objects.filter(slug__startswith="demo-").order_by("pk").first()
    if member_user is not None and first is not None:
        services.role_grant(organisation=first, user=member_user, role="member", by=staff)
    stdout.write(f"  {COMPANY_COUNT} demo member companies, applications and memberships in every status")


def _demo_type(n: int, kind: str) -> MembershipType:
    if kind == "hospital":
        return MembershipType.objects.get(slug="knowledge")
    if kind == "company" and n % 8 == 0:  # the smallest size band: a start-up
        return MembershipType.objects.get(slug="startup")
    if kind == "other":
        return MembershipType.objects.get(slug="supporting")
    return MembershipType.objects.get(slug="company")


def _billing_details(n: int, organisation, staff) -> None:
    """Every third member keeps a billing contact, a reference person and a PO number; the rest bill the admin."""
    if n % 3:
        return
    services.organisation_billing_update(
        organisation=organisation,
        data={
            "billing_contact_name": "Bogholderiet",
            "billing_email": f"faktura{n + 1}@demo-company.example",
            "buyer_reference": f"Ref. {n + 1:03d}",
            "po_number": f"PO-{2026}-{n + 1:04d}",
        },
        by=staff,
    )


# Invented GLNs with a correct check digit (the 579 prefix is Denmark's), for NemHandel invoices in the demo.
PUBLIC_BODIES = [
    ("region", "Region Demo Midt", "Region Demo Midt", "5798000000011", "midtjylland", "8800", "Viborg"),
    ("municipality", "Demo Kommune", "Demo Kommune", "5798000000028", "syddanmark", "5000", "Odense C"),
]


def _public_bodies(staff, today) -> None:
    """A region and a municipality: members of type "public body" with an EAN, so their invoices go by NemHandel."""
    from stdnum import ean

    public = MembershipType.objects.get(slug="public")
    for kind, name, legal_name, gln, region_code, postcode, city in PUBLIC_BODIES:
        gln = gln[:12] + ean.calc_check_digit(gln[:12])
        organisation = services.organisation_create(
            organisation=Organisation(
                slug=f"demo-{services.slug_unique(name=name)}",
                name=name,
                legal_name=legal_name,
                kind=kind,
                size_band="250+",
                address="Rådhuspladsen 1",
                postcode=postcode,
                city=city,
                region=Region.objects.filter(code=region_code).first(),
            ),
            by=staff,
        )
        services.organisation_billing_update(
            organisation=organisation,
            data={
                "ean": gln,
                "billing_contact_name": "Økonomiafdelingen",
                "billing_email": f"faktura@{organisation.slug}.example",
                "buyer_reference": "Sundhedsinnovation",
                "po_number": "INDK-2026-17",
            },
            by=staff,
        )
        start = today - timedelta(days=20)
        membership = services.membership_create(
            membership=Membership(
                organisation=organisation,
                membership_type=public,
                size_band="250+",
                status=Membership.Status.ACTIVE,
                period_start=start,
                period_end=services.one_year_from(start),
                fee_dkk=services.fee_for(membership_type=public, size_band="250+", year=start.year),
            ),
            by=staff,
        )
        services.membership_invoice_issue(membership=membership, by=staff, on=start)


def _credit_note(staff) -> None:
    """One credit note: the first cancelled member's invoice, credited in full."""
    cancelled = (
        Membership.objects.filter(status=Membership.Status.CANCELLED, invoice__isnull=False)
        .select_related("invoice")
        .order_by("pk")
        .first()
    )
    if cancelled is not None:
        credit_note_issue(
            invoice=cancelled.invoice,
            reason="Demo: membership cancelled before the period began",
            by=staff,
            origin=f"membership-credit:{cancelled.pk}",
        )


def _hub_staff_group() -> None:
    hub_staff = User.objects.filter(email="aarhus-staff@dlsc.example").first()
    if hub_staff is not None:
        hub_staff.groups.add(Group.objects.get(name="Hub staff"))


def _tags() -> list[Tag]:
    return [
        Tag.objects.update_or_create(slug=slug, defaults={"name": da, "name_da": da, "name_en": en})[0]
        for slug, da, en in TAGS
    ]


def _cvr(n: int) -> str:
    weights = (2, 7, 6, 5, 4, 3, 2)
    base = 3100000 + n * 17
    while True:
        digits = str(base)
        check = -sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
        if check < 10:
            return digits + str(check)
        base += 1


def _person(rng, n: int, role: str) -> User:
    email = f"{role}{n + 1}@demo-company.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(
            email=email,
            password=None,
            full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            preferred_language="da" if n % 3 else "en",
            email_verified=True,
        )
        # Hashing the same demo password 150 times would take most of a minute; the hash is shared instead.
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    return user


@cache
def _demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def _profile(rng, organisation, tags, staff) -> None:
    offers = rng.sample(tags, k=2)
    seeks = rng.sample(tags, k=2)
    organisation_slug = f"demo-{organisation.slug}"
    Organisation.objects.filter(pk=organisation.pk).update(slug=organisation_slug)
    organisation.slug = organisation_slug
    services.organisation_profile_update(
        organisation=organisation,
        data={
            "description_da": f"{organisation.name} udvikler løsninger inden for "
            f"{', '.join(s.name_da.lower() for s in organisation.segments.all())}.",
            "description_en": f"{organisation.name} develops solutions in "
            f"{', '.join(s.name_en.lower() for s in organisation.segments.all())}.",
            "offers_da": f"Vi tilbyder erfaring med {offers[0].name_da.lower()} og {offers[1].name_da.lower()}.",
            "offers_en": f"We offer experience with {offers[0].name_en.lower()} and {offers[1].name_en.lower()}.",
            "seeks_da": f"Vi søger partnere inden for {seeks[0].name_da.lower()}.",
            "seeks_en": f"We are looking for partners in {seeks[0].name_en.lower()}.",
            "listed_in_directory": rng.random() > 0.1,
        },
        m2m={"offer_tags": offers, "seek_tags": seeks},
        by=staff,
    )


def _people(rng, n, organisation, admin) -> None:
    if n % 2 == 0:
        services.role_grant(organisation=organisation, user=_person(rng, n, "colleague"), role="member", by=admin)
    if n % 5 == 0:
        billing = _person(rng, n, "billing")
        services.role_grant(organisation=organisation, user=billing, role="billing", by=admin)
        services.role_revoke(organisation=organisation, user=admin, role="billing", by=admin)


def _membership_story(n, organisation, staff, today) -> None:
    """Spread the periods so that some renew soon, some lapsed unpaid, some were cancelled or await payment."""
    membership = organisation.memberships.get()
    story = n % 10
    if story == 7:  # lapsed: the period ended last month
        start = today - timedelta(days=400)
    elif story == 8:  # awaiting the first payment, not yet active
        Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.PENDING)
        return
    else:
        start = today - timedelta(days=(n * 37) % 340)
    Membership.objects.filter(pk=membership.pk).update(period_start=start, period_end=services.one_year_from(start))
    membership.refresh_from_db()
    if story == 9:
        services.membership_cancel(membership=membership, by=staff)
    elif story != 6:  # story 6 stays unpaid: it expires once the grace period is over
        paid_on = min(start + timedelta(days=14), today)  # never a payment in the future
        services.membership_mark_paid(membership=membership, by=staff, paid_on=paid_on)
