"""The fee schedule lives on the membership types now; every membership has a type; the free-text invoice
reference gave way to the link to the invoice (its old text is in the note, 0008)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("members", "0008_membership_types_data")]

    operations = [
        migrations.DeleteModel(name="MembershipFee"),
        migrations.RemoveField(model_name="membership", name="invoice_reference"),
        migrations.AlterField(
            model_name="membership",
            name="membership_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="memberships",
                to="members.membershiptype",
                verbose_name="membership type",
            ),
        ),
    ]
