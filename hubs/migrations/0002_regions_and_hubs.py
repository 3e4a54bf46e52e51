"""The five Danish regions and the four hubs named in the cluster's founding texts (a fifth is to come)."""

from django.db import migrations

REGIONS = [
    ("hovedstaden", "Region Hovedstaden", "Capital Region of Denmark"),
    ("sjaelland", "Region Sjælland", "Region Zealand"),
    ("syddanmark", "Region Syddanmark", "Region of Southern Denmark"),
    ("midtjylland", "Region Midtjylland", "Central Denmark Region"),
    ("nordjylland", "Region Nordjylland", "North Denmark Region"),
]

HUBS = [
    {
        "slug": "copenhagen",
        "name_da": "København",
        "name_en": "Copenhagen",
        "city": "København",
        "address_da": "Ole Maaløes Vej 3, 2200 København N",
        "address_en": "Ole Maaløes Vej 3, 2200 Copenhagen N",
        "is_headquarters": True,
        "contact_email": "copenhagen@dlsc.example",
        "regions": ["hovedstaden", "sjaelland"],
        "description_da": (
            "Klyngens hovedkontor i hjertet af Medicon Valley, tæt på universiteter, hospitaler og "
            "innovationsmiljøer som Health Tech Hub Copenhagen, Cobis og Symbion."
        ),
        "description_en": (
            "The cluster's headquarters in the heart of Medicon Valley, close to universities, hospitals and "
            "innovation environments such as Health Tech Hub Copenhagen, Cobis and Symbion."
        ),
    },
    {
        "slug": "aarhus",
        "name_da": "Aarhus",
        "name_en": "Aarhus",
        "city": "Aarhus",
        "address_da": "Finlandsgade 14, 8200 Aarhus N",
        "address_en": "Finlandsgade 14, 8200 Aarhus N",
        "is_headquarters": False,
        "contact_email": "aarhus@dlsc.example",
        "regions": ["midtjylland"],
        "description_da": "Hubben for Midtjylland, med tæt samarbejde med Aarhus Universitet og regionens hospitaler.",
        "description_en": "The hub for Central Denmark, working closely with Aarhus University and the region's hospitals.",
    },
    {
        "slug": "odense",
        "name_da": "Odense",
        "name_en": "Odense",
        "city": "Odense",
        "address_da": "Forskerparken 10, 5230 Odense M",
        "address_en": "Forskerparken 10, 5230 Odense M",
        "is_headquarters": False,
        "contact_email": "odense@dlsc.example",
        "regions": ["syddanmark"],
        "description_da": "Hubben for Syddanmark, stærk i velfærdsteknologi, robotter og hjælpemidler.",
        "description_en": "The hub for Southern Denmark, strong in welfare technology, robotics and assistive technology.",
    },
    {
        "slug": "aalborg",
        "name_da": "Aalborg",
        "name_en": "Aalborg",
        "city": "Aalborg",
        "address_da": "Niels Jernes Vej 10, 9220 Aalborg Ø",
        "address_en": "Niels Jernes Vej 10, 9220 Aalborg East",
        "is_headquarters": False,
        "contact_email": "aalborg@dlsc.example",
        "regions": ["nordjylland"],
        "description_da": "Hubben for Nordjylland, tæt knyttet til Aalborg Universitet og sundhedsteknologi.",
        "description_en": "The hub for North Denmark, closely linked to Aalborg University and health technology.",
    },
]


def load(apps, schema_editor):
    Region = apps.get_model("hubs", "Region")
    Hub = apps.get_model("hubs", "Hub")
    regions = {}
    for code, name_da, name_en in REGIONS:
        regions[code], _ = Region.objects.update_or_create(
            code=code, defaults={"name": name_da, "name_da": name_da, "name_en": name_en}
        )
    for ordering, spec in enumerate(HUBS):
        spec = dict(spec)
        served = spec.pop("regions")
        hub, _ = Hub.objects.update_or_create(
            slug=spec.pop("slug"),
            defaults={
                **spec,
                "name": spec["name_da"],
                "description": spec["description_da"],
                "address": spec["address_da"],
                "ordering": ordering,
            },
        )
        hub.regions.set([regions[code] for code in served])


class Migration(migrations.Migration):
    dependencies = [("hubs", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
