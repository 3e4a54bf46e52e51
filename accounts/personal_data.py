"""A person's own data: each app registers what it keeps about a person (for the JSON download) and what must
happen before the account may be deleted, from its AppConfig.ready(), so accounts need not know the apps."""

from collections.abc import Callable

_collectors: dict[str, Callable] = {}
_deletion_checks: dict[str, Callable] = {}


def personal_data_register(*, key: str, collect: Callable, deletion_blockers: Callable | None = None) -> None:
    """`collect(user) -> dict` goes into the download under `key`; `deletion_blockers(user) -> list[str]` names
    what stops the account from being deleted (empty when nothing does)."""
    _collectors[key] = collect
    if deletion_blockers is not None:
        _deletion_checks[key] = deletion_blockers


def personal_data_collect(*, user) -> dict:
    data = {
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "preferred_language": user.preferred_language,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in user.emailaddress_set.all()
            ],
        }
    }
    for key, collect in sorted(_collectors.items()):
        data[key] = collect(user)
    return data


def account_deletion_blockers(*, user) -> list[str]:
    return [message for _, check in sorted(_deletion_checks.items()) for message in check(user)]
