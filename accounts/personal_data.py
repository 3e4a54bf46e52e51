"""A person's own data: each app registers, from its AppConfig.ready(), the models that hold something about a
person, how to collect it for the download and how to erase it when the account is deleted, and what stops a
deletion; so accounts need not know the apps and a new model with personal fields cannot be forgotten (a test
walks every model and fails when one is covered by no registration)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise


@dataclass(frozen=True)
class PersonalDataSource:
    key: str
    title: str | Promise
    models: tuple[str, ...]
    collect: Callable | None
    erase: Callable | None
    erase_order: int


_sources: dict[str, PersonalDataSource] = {}
_deletion_checks: dict[str, Callable] = {}


def personal_data_register(
    *,
    key: str,
    models: tuple[str, ...] | list[str],
    collect: Callable | None = None,
    erase: Callable | None = None,
    deletion_blockers: Callable | None = None,
    title: str | Promise = "",
    erase_order: int = 50,
) -> None:
    """`models` are the labels ("events.Registration") this registration answers for; `collect(user) -> dict`
    goes into the download under `key`, shown under `title`; `erase(user)` runs inside the deletion transaction
    before the user row goes, lowest `erase_order` first; `deletion_blockers(user) -> list[str]` names what
    stops the account from being deleted (empty when nothing does)."""
    _sources[key] = PersonalDataSource(
        key=key, title=title or key, models=tuple(models), collect=collect, erase=erase, erase_order=erase_order
    )
    if deletion_blockers is not None:
        _deletion_checks[key] = deletion_blockers


def personal_data_covered_models() -> set[str]:
    return {label for source in _sources.values() for label in source.models}


def personal_data_sections() -> list[PersonalDataSource]:
    """The registrations that hold data, in the download's order: the account first, then by key."""
    return sorted(
        (source for source in _sources.values() if source.collect is not None),
        key=lambda source: (source.key != "account", source.key),
    )


def personal_data_collect(*, user) -> dict:
    """Everything every app keeps about the person; texts that have a language (event titles) in theirs."""
    with translation.override(user.preferred_language):
        return {source.key: source.collect(user) for source in personal_data_sections()}


def personal_data_erase(*, user) -> None:
    """Run every app's erase step; the caller holds the transaction and deletes the user row afterwards."""
    for source in sorted(_sources.values(), key=lambda source: (source.erase_order, source.key)):
        if source.erase is not None:
            source.erase(user)


def account_deletion_blockers(*, user) -> list[str]:
    return [message for _, check in sorted(_deletion_checks.items()) for message in check(user)]


def account_collect(user) -> dict:
    """The account itself, its addresses and second factors, and the audit trail by or about the person."""
    from allauth.mfa.models import Authenticator
    from django.contrib.admin.models import LogEntry

    return {
        "email": user.email,
        "full_name": user.full_name,
        "preferred_language": user.preferred_language,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in user.emailaddress_set.all()
        ],
        "second_factors": [
            {
                "type": authenticator.type,
                "created": authenticator.created_at.isoformat(),
                "last_used": authenticator.last_used_at.isoformat() if authenticator.last_used_at else None,
            }
            for authenticator in Authenticator.objects.filter(user=user).order_by("pk")
        ],
        "audit_entries": [
            {
                "time": entry.created_at.isoformat(),
                "action": entry.action,
                "target": entry.target_repr,
                "by_you": entry.actor_id == user.pk,
            }
            for entry in _audit_about(user).order_by("created_at", "pk")
        ],
        "administration_changes": [
            {"time": entry.action_time.isoformat(), "object": entry.object_repr, "change": entry.get_change_message()}
            for entry in LogEntry.objects.filter(user=user).order_by("action_time", "pk")
        ],
    }


def _audit_about(user, *, by_them: bool = True):
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from accounts.models import AuditEntry

    about = Q(target_type=ContentType.objects.get_for_model(user), target_id=str(user.pk))
    about |= Q(target_repr__icontains=user.email)
    if len(user.full_name) >= 5:  # a matchmaking profile's text is its name; a very short name would match others
        about |= Q(target_repr__icontains=user.full_name)
    return AuditEntry.objects.filter(about | Q(actor=user) if by_them else about)


def account_erase(user) -> None:
    """Audit rows stay as the record of what happened but stop naming the person: the actor link goes with the
    user row, the target text (which carries their name and address) is cleared here."""
    _audit_about(user, by_them=False).exclude(target_repr="").update(target_repr="")
