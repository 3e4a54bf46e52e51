"""Bounce and complaint events from the mail provider, received by django-anymail's tracking webhook."""

from anymail.signals import tracking
from django.dispatch import receiver

from newsletters import subscriptions
from newsletters.models import ConsentRecord, Subscriber

# Anymail's normalised event types that say an address must not be mailed again.
UNDELIVERABLE = {
    "bounced": Subscriber.Status.BOUNCED,
    "rejected": Subscriber.Status.BOUNCED,
    "complained": Subscriber.Status.COMPLAINED,
}


@receiver(tracking, dispatch_uid="newsletters_tracking")
def tracking_event_received(sender, event, esp_name, **kwargs):
    status = UNDELIVERABLE.get(event.event_type)
    if event.event_type == "unsubscribed" and event.recipient:
        subscriber = Subscriber.objects.filter(email__iexact=event.recipient).first()
        if subscriber is not None:
            subscriptions.subscriber_unsubscribe(
                subscriber=subscriber, source=ConsentRecord.Source.MAIL_PROVIDER, ip_address=None
            )
        return
    if status is None or not event.recipient:
        return
    note = f"{esp_name}: {event.event_type} {event.reject_reason or ''} {event.description or ''}".strip()
    subscriptions.subscriber_mark_undeliverable(
        email=event.recipient, status=status, source=ConsentRecord.Source.MAIL_PROVIDER, note=note
    )
