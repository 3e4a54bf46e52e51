"""The consent text shown where people opt in, and its version, which the ledger records with every opt-in."""

from django.utils.translation import gettext_lazy as _

CONSENT_TEXT_VERSION = "2026-11-v1"

CONSENT_TEXT = _(
    "I want to receive the Danish Life Science Cluster's newsletters on the topics I have chosen, by email. "
    "I can unsubscribe at any time with the link in every newsletter. The cluster keeps my email address, "
    "name, language, topics and a record of this consent for as long as I am subscribed."
)
