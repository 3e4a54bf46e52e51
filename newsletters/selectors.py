"""Reads for the newsletter pages: the public archive."""

from django.db.models import QuerySet

from newsletters.models import Campaign


def archive_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=Campaign.Status.SENT).order_by("-finished_at", "-pk")


def archive_campaign(*, pk: int) -> Campaign | None:
    return archive_campaigns().filter(pk=pk).first()
