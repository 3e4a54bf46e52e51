"""Reference data: the membership types. "Company member" takes over the fee per size band that MembershipFee
held (today's rows, else the schedule of 0003); start-up, knowledge institution, public body and supporting member
are seeded beside it. Every existing membership becomes a company membership of its organisation's size band, and
a free-text invoice reference moves into the membership's note (the invoice itself is now a link to billing)."""

from decimal import Decimal

from django.db import migrations

FEE_YEAR = 2026
DEFAULT_FEES = {"1-9": 2500, "10-49": 7500, "50-249": 20000, "250+": 45000}
ALL_BANDS = ""

# slug, Danish name, English name, Danish description, English description, kinds, fees {band: DKK}, benefits
TYPES = [
    (
        "company",
        "Virksomhedsmedlem",
        "Company member",
        "Fuldt medlemskab for virksomheder. Kontingentet følger antallet af ansatte.",
        "Full membership for companies. The fee follows the number of employees.",
        ["company", "investor", "other"],
        None,
        {},
    ),
    (
        "startup",
        "Start-up-medlem",
        "Start-up member",
        "For virksomheder under fem år med højst ni ansatte.",
        "For companies under five years old with at most nine employees.",
        ["company"],
        {ALL_BANDS: 1500},
        {},
    ),
    (
        "knowledge",
        "Videninstitution",
        "Knowledge institution",
        "For universiteter, GTS-institutter og hospitaler.",
        "For universities, GTS institutes and hospitals.",
        ["university", "gts", "hospital"],
        {ALL_BANDS: 15000},
        {},
    ),
    (
        "public",
        "Offentlig myndighed",
        "Public body",
        "For regioner og kommuner. Fakturaen sendes elektronisk via NemHandel til jeres EAN-nummer.",
        "For regions and municipalities. The invoice is sent electronically through NemHandel to your EAN number.",
        ["region", "municipality"],
        {ALL_BANDS: 25000},
        {},
    ),
    (
        "supporting",
        "Støttemedlem",
        "Supporting member",
        "For foreninger og andre, der vil støtte klyngen. Giver ikke adgang til matchmaking eller medlemsarrangementer.",
        "For associations and others who support the cluster. Gives no access to matchmaking or members' events.",
        ["industry_association", "cluster", "other"],
        {ALL_BANDS: 2000},
        {"members_only_events": False, "member_seats": False, "matchmaking": False},
    ),
]


def load(apps, schema_editor):
    MembershipType = apps.get_model("members", "MembershipType")
    MembershipTypeFee = apps.get_model("members", "MembershipTypeFee")
    try:
        MembershipFee = apps.get_model("members", "MembershipFee")
        current = dict(MembershipFee.objects.values_list("size_band", "annual_fee_dkk"))
    except LookupError:  # loaded again after 0009 removed the model (tests/support/reference_data.py)
        current = {}
    for ordering, (slug, name_da, name_en, text_da, text_en, kinds, fees, benefits) in enumerate(TYPES):
        membership_type, created = MembershipType.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name_da,
                "name_da": name_da,
                "name_en": name_en,
                "description": text_da,
                "description_da": text_da,
                "description_en": text_en,
                "organisation_kinds": kinds,
                "ordering": ordering,
                **benefits,
            },
        )
        if not created:
            continue
        for band, amount in (fees or {**DEFAULT_FEES, **current}).items():
            MembershipTypeFee.objects.create(
                membership_type=membership_type, year=FEE_YEAR, size_band=band, amount=Decimal(amount)
            )


def memberships_typed(apps, schema_editor):
    MembershipType = apps.get_model("members", "MembershipType")
    Membership = apps.get_model("members", "Membership")
    company = MembershipType.objects.get(slug="company")
    for membership in Membership.objects.filter(membership_type__isnull=True).select_related("organisation"):
        membership.membership_type = company
        membership.size_band = membership.organisation.size_band
        if membership.invoice_reference:
            membership.note = f"Invoice reference before 2026: {membership.invoice_reference}"
        membership.save(update_fields=["membership_type", "size_band", "note"])


class Migration(migrations.Migration):
    dependencies = [("members", "0007_membership_types")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(memberships_typed, migrations.RunPython.noop),
    ]
