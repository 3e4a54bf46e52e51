"""Reads for the newsletter pages: the public archive, and who a campaign would reach."""

from django.db.models import QuerySet

from newsletters.models import Campaign, Subscriber


def archive_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=Campaign.Status.SENT).order_by("-finished_at", "-pk")


def archive_campaign(*, pk: int) -> Campaign | None:
    return archive_campaigns().filter(pk=pk).first()


def campaign_audience(*, campaign: Campaign) -> QuerySet[Subscriber]:
    """The confirmed subscribers of any of the campaign's topics, each once: those who get a copy when it starts."""
    return Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED, topics__in=campaign.topics.all()).distinct()


def campaign_recipient_count(*, campaign: Campaign) -> int:
    return campaign_audience(campaign=campaign).count()
