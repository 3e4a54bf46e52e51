"""Reference data: the six segments, the partner institutions of the 2020 founding, the fee schedule, the
"Hub staff" group, and (on PostgreSQL) the GIN index behind the directory's full-text search."""

from django.db import migrations

SEGMENTS = [
    ("biotech", "Biotek", "Biotech"),
    ("pharma", "Lægemidler", "Pharmaceuticals"),
    ("medtech", "Medico", "Medtech"),
    ("assistive", "Hjælpemidler", "Assistive technology"),
    ("welfare", "Velfærdsteknologi", "Welfare technology"),
    ("digital-health", "Digitale løsninger", "Digital health"),
]

# (kind, slug, Danish name, English name, short name)
PARTNERS = [
    ("cluster", "welfaretech", "WelfareTech", "WelfareTech", ""),
    ("cluster", "mtic", "Medtech Innovation Consortium", "Medtech Innovation Consortium", "MTIC"),
    ("cluster", "lsi", "Life Science Innovation", "Life Science Innovation", "LSI"),
    ("cluster", "chc", "Copenhagen Healthtech Cluster", "Copenhagen Healthtech Cluster", "CHC"),
    ("cluster", "danish-healthtech", "Danish Healthtech", "Danish Healthtech", ""),
    ("cluster", "biopeople", "Biopeople", "Biopeople", ""),
    ("university", "ku", "Københavns Universitet", "University of Copenhagen", "KU"),
    ("university", "dtu", "Danmarks Tekniske Universitet", "Technical University of Denmark", "DTU"),
    ("university", "aau", "Aalborg Universitet", "Aalborg University", "AAU"),
    ("university", "au", "Aarhus Universitet", "Aarhus University", "AU"),
    ("university", "sdu", "Syddansk Universitet", "University of Southern Denmark", "SDU"),
    ("gts", "force", "FORCE Technology", "FORCE Technology", ""),
    ("gts", "bioneer", "Bioneer", "Bioneer", ""),
    ("gts", "alexandra", "Alexandra Instituttet", "Alexandra Institute", ""),
    ("gts", "dti", "Teknologisk Institut", "Danish Technological Institute", "DTI"),
    ("gts", "dhi", "DHI", "DHI", ""),
    ("region", "region-nordjylland", "Region Nordjylland", "North Denmark Region", ""),
    ("region", "region-midtjylland", "Region Midtjylland", "Central Denmark Region", ""),
    ("region", "region-syddanmark", "Region Syddanmark", "Region of Southern Denmark", ""),
    ("region", "region-sjaelland", "Region Sjælland", "Region Zealand", ""),
    ("region", "region-hovedstaden", "Region Hovedstaden", "Capital Region of Denmark", ""),
    ("association", "lif", "Lif", "Lif", ""),
    ("association", "medicoindustrien", "Medicoindustrien", "Medicoindustrien", ""),
    ("association", "dansk-biotek", "Dansk Biotek", "Danish Biotech", ""),
    ("association", "danish-care", "Danish Care", "Danish Care", ""),
    ("association", "dansk-erhverv", "Dansk Erhverv", "Danish Chamber of Commerce", ""),
    ("association", "dansk-industri", "Dansk Industri", "Confederation of Danish Industry", "DI"),
    ("municipality", "kl", "De danske kommuner (KL)", "The Danish municipalities (KL)", "KL"),
]

FEES = [("1-9", 2500), ("10-49", 7500), ("50-249", 20000), ("250+", 45000)]

HUB_STAFF_PERMISSIONS = [
    "view_organisation",
    "change_organisation",
    "view_membership",
    "change_membership",
    "view_organisationrole",
    "view_segment",
    "view_tag",
]

SEARCH_INDEX = "members_org_search_vector_gin"


def load(apps, schema_editor):
    Segment = apps.get_model("members", "Segment")
    Partner = apps.get_model("members", "Partner")
    for ordering, (code, name_da, name_en) in enumerate(SEGMENTS):
        Segment.objects.update_or_create(
            code=code, defaults={"name": name_da, "name_da": name_da, "name_en": name_en, "ordering": ordering}
        )
    for ordering, (kind, slug, name_da, name_en, short_name) in enumerate(PARTNERS):
        Partner.objects.update_or_create(
            slug=slug,
            defaults={
                "kind": kind,
                "name": name_da,
                "name_da": name_da,
                "name_en": name_en,
                "short_name": short_name,
                "role": "founding",
                "partner_since": 2020,
                "ordering": ordering,
            },
        )
    try:
        MembershipFee = apps.get_model("members", "MembershipFee")
    except LookupError:  # removed in 0008: the fees live on the membership types (0008_membership_types_data)
        return
    for size_band, fee in FEES:
        MembershipFee.objects.update_or_create(size_band=size_band, defaults={"annual_fee_dkk": fee})


def hub_staff_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    members_config = apps.get_app_config("members")
    members_config.models_module = True
    create_permissions(members_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Hub staff")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="members", codename__in=HUB_STAFF_PERMISSIONS)
    )


def search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON members_organisation USING gin (search_vector)"
        )


def search_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_applications_invitations_fees_search"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(hub_staff_group, migrations.RunPython.noop),
        migrations.RunPython(search_index, search_index_drop),
    ]
