"""Campaign copies written before the outbox had groups join their campaign's group, and a paused campaign's
copies, parked until now by a next attempt a century ahead, become held in a held group, due when released."""

from datetime import timedelta

from django.db import migrations
from django.db.models import Subquery
from django.utils import timezone

WAITING = ["queued", "retrying"]


def groups_fill(apps, schema_editor):
    Delivery = apps.get_model("newsletters", "Delivery")
    Campaign = apps.get_model("newsletters", "Campaign")
    OutboxMessage = apps.get_model("outbox", "OutboxMessage")
    OutboxHold = apps.get_model("outbox", "OutboxHold")
    for campaign_id in Delivery.objects.values_list("campaign_id", flat=True).distinct():
        OutboxMessage.objects.filter(
            pk__in=Subquery(
                Delivery.objects.filter(campaign_id=campaign_id, message__isnull=False).values("message_id")
            )
        ).update(group_key=f"newsletters.campaign:{campaign_id}")
    now = timezone.now()
    for campaign_id in Campaign.objects.filter(status="paused").values_list("pk", flat=True):
        group = f"newsletters.campaign:{campaign_id}"
        OutboxHold.objects.get_or_create(group_key=group)
        OutboxMessage.objects.filter(group_key=group, status__in=WAITING).update(status="held", next_attempt_at=now)


def groups_clear(apps, schema_editor):
    OutboxMessage = apps.get_model("outbox", "OutboxMessage")
    OutboxHold = apps.get_model("outbox", "OutboxHold")
    parked = timezone.now() + timedelta(days=365 * 100)
    OutboxMessage.objects.filter(status="held").update(status="queued", next_attempt_at=parked)
    OutboxHold.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletters", "0003_bounce_score_and_pause_reason"),
        ("outbox", "0004_held_status_group_hold"),
    ]

    operations = [migrations.RunPython(groups_fill, groups_clear)]
