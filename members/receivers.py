"""Signal receivers: the one place this project uses signals for its own models. Whatever writes a row the member
directory shows (a service, the admin, a shell, a data migration, another app) moves the directory's cache
generation on once the write commits. Queryset update() and bulk_create() send no signals: a caller that uses them
on these models calls members.directory.generation_bump() itself."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from hubs.models import Hub, Region
from members.directory import generation_bump
from members.models import Membership, MembershipType, Organisation, Segment, Tag


def directory_changed(sender, action: str = "post_save", **kwargs) -> None:
    """post_save, post_delete, and the post_ half of m2m_changed (its pre_ half comes before the change)."""
    if action.startswith("post_"):
        generation_bump()


def directory_receivers_connect() -> None:
    # Cards show organisations (logo, offers and seeks included), their segments and hub; memberships decide who is
    # listed; segments, hubs and tags are the filters' options; a region decides an organisation's hub.
    for model in (Organisation, Membership, MembershipType, Segment, Tag, Hub, Region):
        for signal in (post_save, post_delete):
            signal.connect(directory_changed, sender=model, dispatch_uid=f"members.directory.{model._meta.label}")
    for through in (
        Organisation.segments.through,
        Organisation.offer_tags.through,
        Organisation.seek_tags.through,
        Hub.regions.through,
    ):
        m2m_changed.connect(directory_changed, sender=through, dispatch_uid=f"members.directory.{through._meta.label}")
