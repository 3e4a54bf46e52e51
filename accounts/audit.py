"""Recording audit entries; services call this inside their own transaction."""

from django.contrib.contenttypes.models import ContentType

from accounts.models import AuditEntry


def audit_record(*, actor, action: str, target=None, data: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        data=data or {},
    )
