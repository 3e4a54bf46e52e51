"""Validators for the identifiers an invoice carries: the EAN (GLN) that routes a NemHandel invoice and the
Danish CVR number."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import ean
from stdnum.dk import cvr
from stdnum.exceptions import ValidationError as StdnumError


def validate_ean(value: str) -> None:
    """A GLN as NemHandel uses it (Peppol scheme 0088): exactly 13 digits with a correct GS1 check digit."""
    if not (isinstance(value, str) and len(value) == 13 and value.isascii() and value.isdigit()):
        raise ValidationError(_("Enter a valid EAN number: 13 digits with a correct check digit."), code="ean_invalid")
    try:
        ean.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Enter a valid EAN number: 13 digits with a correct check digit."), code="ean_invalid"
        ) from None


def validate_cvr(value: str) -> None:
    """Eight digits with the modulus-11 check, as python-stdnum defines a Danish CVR number."""
    try:
        cvr.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Enter a valid CVR number: eight digits with a correct check digit."), code="cvr_invalid"
        ) from None
