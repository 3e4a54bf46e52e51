"""Reference data that data migrations load (regions, hubs, segments, partners, fees, the hub staff group).
A transactional test's flush empties those tables, and a reused test database may start that way: this loads
them again through the migrations' own code."""

import importlib

DATA_MIGRATIONS = [
    ("hubs.migrations.0002_regions_and_hubs", "load"),
    ("members.migrations.0003_reference_data", "load"),
    ("members.migrations.0006_partner_logo_and_websites", "load"),
    ("pages.migrations.0002_legal_texts", "load"),
]


def reference_data_load() -> None:
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission
    from django.utils import translation

    # The loaders write the untranslated field names too; with the real (translated) models those mean Danish.
    with translation.override("da"):
        for module, function in DATA_MIGRATIONS:
            getattr(importlib.import_module(module), function)(apps, None)
    members_migration = importlib.import_module("members.migrations.0003_reference_data")
    group, _ = Group.objects.get_or_create(name="Hub staff")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="members", codename__in=members_migration.HUB_STAFF_PERMISSIONS
        )
    )
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="events").exclude(codename__startswith="delete_")
    )
