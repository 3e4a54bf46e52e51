"""Partners get a logo, and the founding partners their websites, so that each partner card links to its partner."""

import django.core.validators
from django.db import migrations, models

import members.models

WEBSITES = {
    "ku": "https://www.ku.dk",
    "dtu": "https://www.dtu.dk",
    "aau": "https://www.aau.dk",
    "au": "https://www.au.dk",
    "sdu": "https://www.sdu.dk",
    "force": "https://forcetechnology.com",
    "bioneer": "https://www.bioneer.dk",
    "alexandra": "https://alexandra.dk",
    "dti": "https://www.teknologisk.dk",
    "dhi": "https://www.dhigroup.com",
    "region-nordjylland": "https://rn.dk",
    "region-midtjylland": "https://www.rm.dk",
    "region-syddanmark": "https://regionsyddanmark.dk",
    "region-sjaelland": "https://www.regionsjaelland.dk",
    "region-hovedstaden": "https://www.regionh.dk",
    "lif": "https://www.lif.dk",
    "medicoindustrien": "https://www.medicoindustrien.dk",
    "dansk-biotek": "https://www.danskbiotek.dk",
    "danish-care": "https://www.danishcare.dk",
    "dansk-erhverv": "https://www.danskerhverv.dk",
    "dansk-industri": "https://www.danskindustri.dk",
    "kl": "https://www.kl.dk",
}


def load(apps, schema_editor):
    """Fills only a website staff have not set."""
    Partner = apps.get_model("members", "Partner")
    for slug, website in WEBSITES.items():
        Partner.objects.filter(slug=slug, website="").update(website=website)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_directory_name_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="logo",
            field=models.ImageField(
                blank=True,
                help_text="PNG, JPEG, GIF or WebP, at most 1 MB.",
                upload_to="partners/",
                validators=[
                    django.core.validators.FileExtensionValidator(["png", "jpg", "jpeg", "gif", "webp"]),
                    members.models.validate_logo_size,
                ],
                verbose_name="logo",
            ),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
