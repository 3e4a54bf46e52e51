"""Reference data that data migrations load (regions, hubs, segments, partners, fees, the hub staff group).
A transactional test's flush empties those tables, and a reused test database may start that way: this loads
them again through the migrations' own code."""

import importlib

DATA_MIGRATIONS = [
    ("hubs.migrations.0002_regions_and_hubs", "load"),
    ("members.migrations.0003_reference_data", "load"),
    ("members.migrations.0006_partner_logo_and_websites", "load"),
    ("members.migrations.0008_membership_types_data", "load"),
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
    billing_migration = importlib.import_module("billing.migrations.0002_hub_staff_view_invoices")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="billing", codename__in=billing_migration.HUB_STAFF_BILLING_PERMISSIONS
        )
    )


SNAPSHOT_SCHEMA = "test_reference_snapshot"


class ReferenceSnapshot:
    """On PostgreSQL, the database as every test starts it (what migrations load: content types, permissions, the
    hub staff group, the reference data) kept in a schema of its own, so that after a transactional test emptying the
    tables it wrote to and copying back the kept rows restore it: no flush of every table, no post_migrate
    signal rebuilding content types and permissions, no loading through the migrations' code for the next test."""

    def __init__(self, connection):
        self.connection = connection
        self.kept: list[str] = []
        self.all: list[str] = []

    # Table names come from Django's introspection of this database, quoted: nothing from outside reaches the SQL.
    def _name(self, table: str) -> str:
        return self.connection.ops.quote_name(table)

    def _kept(self, table: str) -> str:
        return f"{SNAPSHOT_SCHEMA}.{self._name(table)}"

    def take(self) -> None:
        """Copy every table that has rows now; run it on a freshly flushed and loaded database."""
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
            self.all = sorted(self.connection.introspection.django_table_names(only_existing=True, include_views=False))
            self.kept = self._has_rows(cursor, self.all)
            for table in self.kept:
                cursor.execute(f"CREATE TABLE {self._kept(table)} AS SELECT * FROM {self._name(table)}")  # noqa: S608

    def _has_rows(self, cursor, tables: list[str]) -> list[str]:
        """Which of these tables have a row, in one query."""
        cursor.execute(
            " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {self._name(t)})" for t in tables),  # noqa: S608
            tables,
        )
        return [row[0] for row in cursor.fetchall()]

    def restore(self) -> None:
        """Empty the tables a test wrote to and put the kept rows back, in one transaction. DELETE rather than TRUNCATE:
        these tables hold a few rows, and TRUNCATE makes new files for every table and index, which costs a second or
        more on a busy disk. Django's foreign keys are checked at commit, so the order of the statements does not
        matter."""
        from django.db import transaction

        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            for table in sorted(set(self._has_rows(cursor, self.all)) | set(self.kept)):
                cursor.execute(f"DELETE FROM {self._name(table)}")  # noqa: S608
            for table in self.kept:
                cursor.execute(f"INSERT INTO {self._name(table)} SELECT * FROM {self._kept(table)}")  # noqa: S608
