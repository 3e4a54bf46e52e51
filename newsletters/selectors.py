"""Reads for the newsletter pages (the public archive), who a campaign would reach, and the admin index."""

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


def campaigns_sending(*, hubs=None) -> QuerySet[Campaign]:
    """Campaigns whose copies are being delivered, for the admin index."""
    campaigns = Campaign.objects.filter(status=Campaign.Status.SENDING)
    if hubs is not None:
        campaigns = campaigns.filter(hub__in=hubs)
    return campaigns
