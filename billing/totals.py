"""Invoice arithmetic as EN 16931 defines it: each line's net amount rounded to two decimals (BR-DEC), VAT
computed once per VAT category on the sum of that category's lines and rounded there (BR-CO-17), never summed
from rounded line VATs; the totals are the sums (BR-CO-10, BR-CO-13, BR-CO-14, BR-CO-15)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing.models import VAT_RATES

CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(*, quantity, unit_price) -> Decimal:
    return money(Decimal(quantity) * Decimal(unit_price))


@dataclass(frozen=True)
class VatBreakdown:
    category: str
    rate: Decimal
    taxable: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    breakdown: tuple[VatBreakdown, ...]


def totals_compute(lines) -> Totals:
    """`lines`: objects with `quantity`, `unit_price` and `vat_category` (model rows or `billing.services.Line`)."""
    taxable: dict[str, Decimal] = {}
    for line in lines:
        taxable[line.vat_category] = taxable.get(line.vat_category, Decimal("0.00")) + line_net(
            quantity=line.quantity, unit_price=line.unit_price
        )
    breakdown = tuple(
        VatBreakdown(
            category=category,
            rate=VAT_RATES[category],
            taxable=amount,
            vat=money(amount * VAT_RATES[category] / 100),
        )
        for category, amount in sorted(taxable.items())
    )
    net = sum((row.taxable for row in breakdown), Decimal("0.00"))
    vat = sum((row.vat for row in breakdown), Decimal("0.00"))
    return Totals(net=net, vat=vat, gross=net + vat, breakdown=breakdown)
