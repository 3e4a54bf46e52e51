"""Hub staff run their own hub's events and matchmaking: the "Hub staff" group may view, add and change them
(the admin scopes every queryset to the staff member's hub)."""

from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the group needs them now.
    events_config = apps.get_app_config("events")
    events_config.models_module = True
    create_permissions(events_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Hub staff")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="events").exclude(codename__startswith="delete_")
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Hub staff").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="events"))


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0100_matchmaking_profiles_requests_meetings"),
        ("members", "0003_reference_data"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
