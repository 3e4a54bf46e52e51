"""Hub staff follow their own hub's invoices, credit notes and payments (paid events are run by the hubs): the "Hub
staff" group may view them, and the admin scopes every list to the staff member's hub. Issuing, crediting,
registering payments, the bank statement and the accounting export stay with the staff who see every hub."""

from django.db import migrations

HUB_STAFF_BILLING_PERMISSIONS = ["view_invoice", "view_invoiceline", "view_payment"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    billing_config = apps.get_app_config("billing")
    billing_config.models_module = True
    create_permissions(billing_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Hub staff")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="billing", codename__in=HUB_STAFF_BILLING_PERMISSIONS)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Hub staff").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="billing"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_invoices"),
        ("members", "0003_reference_data"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
