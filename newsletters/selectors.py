"""Reads for the newsletter pages: offered topics and the public archive."""

from django.db.models import QuerySet

from newsletters.models import Campaign, Topic


def topics_offered() -> QuerySet[Topic]:
    return Topic.objects.filter(is_active=True)


def archive_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=Campaign.Status.SENT).order_by("-finished_at", "-pk")


def archive_campaign(*, pk: int) -> Campaign | None:
    return archive_campaigns().filter(pk=pk).first()
