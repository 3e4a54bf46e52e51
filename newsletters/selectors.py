"""Reads for the newsletter pages (the public archive) and the admin index."""

from django.db.models import QuerySet

from newsletters.models import Campaign


def archive_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=Campaign.Status.SENT).order_by("-finished_at", "-pk")


def archive_campaign(*, pk: int) -> Campaign | None:
    return archive_campaigns().filter(pk=pk).first()


def campaigns_sending(*, hubs=None) -> QuerySet[Campaign]:
    """Campaigns whose copies are being delivered, for the admin index."""
    campaigns = Campaign.objects.filter(status=Campaign.Status.SENDING)
    if hubs is not None:
        campaigns = campaigns.filter(hub__in=hubs)
    return campaigns
