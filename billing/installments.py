"""Payment schedules: a one-time total split into installments, and each installment into invoice lines, one per
VAT rate of the quote. Pure Python, no ORM; every rounding is the pricing engine's (billing.pricing.round_money).

How an installment is invoiced
    Like Stripe's and HubSpot's payment schedules, an installment is a part of the quote's total, VAT included: a
    deposit of 30% of 1,210.00 is an invoice of 363.00. The invoice carries the quote's VAT split: one line per VAT
    rate of the quote ("Deposit of quote Q-1001"), whose net is that rate's share of the installment, plus one line
    outside VAT for the quote's share of one-time fees and taxes. Its VAT is computed by the engine on that net, as on
    any invoice, so every installment invoice is a correct VAT invoice on its own (printed base x rate = printed VAT).

    Nets are whole minor units, so an installment only reaches amounts that some nets produce: with one VAT rate r,
    net + round(net x r) skips a value now and then (at 20%, 0.09 is neither 0.07 + 0.01 nor 0.08 + 0.02). Where a
    quote has several rates, or a part outside VAT, the split moves a cent between its lines; where it cannot, a
    computed (percentage) installment moves to the nearest amount that can be invoiced exactly and the last
    percentage installment takes the difference, and an amount the rep typed is refused with the nearest amounts
    that work. So each installment invoice totals exactly its installment, and the installments exactly the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from babel.numbers import get_currency_precision
from django.utils.translation import gettext as _

from billing.pricing import DocumentSummary, VatGroup, round_money
from commerce_hub.money import money_format

# Percentages of the total keep this many decimals (QuoteInstallment.percent).
PERCENT_DECIMALS = 4
# How far (in minor units) a computed installment may move to reach an amount that can be invoiced exactly.
_NUDGE = 4


@dataclass(frozen=True)
class Column:
    """One part of the quote's total that an installment's invoice bills on a line of its own: a VAT rate's base and
    VAT together (`rate` > 0), or a part without VAT (`rate` 0: zero-rated, reverse charge, fees outside VAT)."""

    weight: Decimal  # this part of the quote's total, VAT included
    rate: Decimal  # the VAT percentage the engine charges on the line's net


def summary_columns(summary: DocumentSummary) -> list[tuple[Column, VatGroup | None]]:
    """The parts of a document's total that an installment invoice bills on lines of their own, largest first: each
    VAT group's base and VAT (with its group), and what lies outside VAT (one-time fees and taxes; no group). The one
    split that the quote's printed schedule and its installment invoices both use."""
    columns: list[tuple[Column, VatGroup | None]] = [
        (Column(weight=group.base + group.vat, rate=Decimal(0) if group.reverse_charge else Decimal(group.rate)), group)
        for group in summary.vat_groups
        if group.base + group.vat > 0
    ]
    outside = summary.one_time_fee_total + summary.one_time_tax_total
    if outside > 0:
        columns.append((Column(weight=outside, rate=Decimal(0)), None))
    return sorted(columns, key=lambda pair: -pair[0].weight)


@dataclass(frozen=True)
class Row:
    """One installment as the rep entered it: a percentage of the total or an amount (exactly one)."""

    percent: Decimal | None = None
    amount: Decimal | None = None


class ScheduleError(ValueError):
    """A schedule that cannot be invoiced exactly; `errors` are (row index or None, field, message)."""

    def __init__(self, errors: Sequence[tuple[int | None, str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(message for _row, _field, message in self.errors))


def _places(currency: str) -> int:
    return get_currency_precision(currency)


def _units(amount: Decimal | Fraction, places: int) -> int:
    value = Fraction(amount) * 10**places
    if value.denominator != 1:
        raise ValueError(f"{amount} is not in whole minor units")
    return value.numerator


def _decimal(units: int, places: int) -> Decimal:
    return Decimal(units).scaleb(-places)


def _gross(net: int, rate: Decimal, places: int, currency: str) -> int:
    """A line's net plus the VAT the engine charges on it, in minor units (one line per VAT group: the group's
    base is exactly this net)."""
    if not rate:
        return net
    vat = round_money(Fraction(net, 10**places) * Fraction(rate) / 100, currency)
    return net + _units(vat, places)


def _shares(units: int, weights: Sequence[int]) -> list[int]:
    """`units` split pro rata to `weights` in whole units, the largest remainders taking the leftover units."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    exact = [Fraction(units * w, total) for w in weights]
    parts = [int(e) for e in exact]  # floor: every part is non-negative
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), -weights[i], i))
    for i in order[: units - sum(parts)]:
        parts[i] += 1
    return parts


def split(amount: Decimal, columns: Sequence[Column], currency: str) -> tuple[Decimal, ...] | None:
    """The net of each column's invoice line for an installment of `amount`, such that the lines with their VAT come
    to `amount` exactly; None when no nets near the columns' shares do (see the module's docstring)."""
    places = _places(currency)
    target = _units(amount, places)
    weights = [_units(column.weight, places) for column in columns]
    shares = _shares(target, weights)
    nets: list[int] = []
    for column, share in zip(columns, shares, strict=True):
        if not column.rate:
            nets.append(share)
            continue
        # The largest net whose gross does not pass the share: the gross steps by one or two minor units per unit
        # of net (a rate of at most 100%), so at most one unit of the share is left over.
        net = int(Fraction(share) * 100 / (100 + Fraction(column.rate)))
        while _gross(net + 1, column.rate, places, currency) <= share:
            net += 1
        while net > 0 and _gross(net, column.rate, places, currency) > share:
            net -= 1
        nets.append(net)
    grosses = [_gross(n, c.rate, places, currency) for n, c in zip(nets, columns, strict=True)]
    left = target - sum(grosses)
    if left:
        flexible = [i for i, column in enumerate(columns) if not column.rate]
        if flexible:
            nets[max(flexible, key=lambda i: (weights[i], -i))] += left
        else:
            nets = _bump(nets, grosses, left, columns, places, currency)
            if nets is None:
                return None
    return tuple(_decimal(n, places) for n in nets)


def _bump(nets, grosses, left, columns, places, currency) -> list[int] | None:
    """Move some lines' nets by a unit or two so the grosses gain exactly `left` minor units, changing as little as
    possible (fewest units moved, the first columns first)."""
    best: dict[int, tuple[int, tuple[int, ...]]] = {0: (0, ())}
    for index, column in enumerate(columns):
        following: dict[int, tuple[int, tuple[int, ...]]] = {}
        for delta, (cost, moves) in best.items():
            for move in (0, 1, -1, 2, -2):
                net = nets[index] + move
                if net < 0:
                    continue
                gained = delta + _gross(net, column.rate, places, currency) - grosses[index]
                candidate = (cost + abs(move), (*moves, move))
                if gained not in following or candidate[0] < following[gained][0]:
                    following[gained] = candidate
        best = following
    if left not in best:
        return None
    return [net + move for net, move in zip(nets, best[left][1], strict=True)]


def splittable(amount: Decimal, columns: Sequence[Column], currency: str) -> bool:
    return split(amount, columns, currency) is not None


def nearest_splittable(amount: Decimal, columns: Sequence[Column], currency: str) -> tuple[Decimal, Decimal]:
    """The nearest amounts below and above `amount` that an installment invoice can total exactly."""
    places = _places(currency)
    unit = _decimal(1, places)
    below, above = amount - unit, amount + unit
    while below > 0 and not splittable(below, columns, currency):
        below -= unit
    while not splittable(above, columns, currency):
        above += unit
    return max(below, Decimal(0)), above


def _rates_text(columns: Sequence[Column]) -> str:
    rates = sorted({column.rate for column in columns if column.rate}, reverse=True)
    return ", ".join(f"{rate.normalize():f}%" for rate in rates)


def _unsplittable_message(amount: Decimal, columns: Sequence[Column], currency: str) -> str:
    below, above = nearest_splittable(amount, columns, currency)
    return _("%(amount)s cannot be invoiced to the cent with VAT at %(rates)s: use %(below)s or %(above)s instead.") % {
        "amount": money_format(amount, currency),
        "rates": _rates_text(columns),
        "below": money_format(below, currency),
        "above": money_format(above, currency),
    }


def schedule_amounts(total: Decimal, rows: Sequence[Row], columns: Sequence[Column], currency: str) -> list[Decimal]:
    """The amount of each installment. Percentages of `total` are rounded by the engine's rule and the last
    percentage installment takes what rounding left over, so the amounts always add up to `total` exactly; amounts
    the rep typed are kept as typed. Raises ScheduleError when the rows do not add up to the total, or an
    installment cannot be invoiced exactly (see the module's docstring)."""
    if total <= 0:
        raise ScheduleError([(None, "__all__", _("The total is zero: there is nothing to pay in installments."))])
    places = _places(currency)
    unit = _decimal(1, places)
    exact = [
        Fraction(total) * Fraction(row.percent) / 100 if row.percent is not None else Fraction(row.amount or 0)
        for row in rows
    ]
    if any(row.percent is not None for row in rows):
        # Percentages keep four decimals: the schedule adds up when it covers 100.0000% of the total, and the last
        # percentage installment takes what that rounding (and the rounding to cents) leaves.
        covered = sum(exact, Fraction(0)) * 100 / Fraction(total)
        adds_up = abs(covered - 100) < Fraction(1, 2 * 10**PERCENT_DECIMALS)
    else:
        adds_up = sum(exact, Fraction(0)) == Fraction(total)
    if not adds_up:
        scheduled = sum((round_money(share, currency) for share in exact), Decimal(0))
        if scheduled == total:
            message = _("The installments cover %(covered)s%% of the total; together they must cover 100%%.") % {
                "covered": _percent_text(covered)
            }
        else:
            message = _("The installments add up to %(scheduled)s, but the total is %(total)s.") % {
                "scheduled": money_format(scheduled, currency),
                "total": money_format(total, currency),
            }
        raise ScheduleError([(None, "__all__", message)])
    percent_rows = [i for i, row in enumerate(rows) if row.percent is not None]
    absorber = percent_rows[-1] if percent_rows else None
    amounts = [round_money(share, currency) for share in exact]
    errors: list[tuple[int | None, str, str]] = []
    for index, amount in enumerate(amounts):
        if index == absorber:
            continue
        if rows[index].percent is None:
            if not splittable(amount, columns, currency):
                errors.append((index, "amount", _unsplittable_message(amount, columns, currency)))
            continue
        if splittable(amount, columns, currency):
            continue
        # A computed amount may move by a few cents to one that can be invoiced exactly, nearest first.
        for step in _steps():
            candidate = amount + step * unit
            if candidate > 0 and splittable(candidate, columns, currency):
                amounts[index] = candidate
                break
    if absorber is not None:
        amounts[absorber] = total - sum(a for i, a in enumerate(amounts) if i != absorber)
        if not splittable(amounts[absorber], columns, currency):
            _rebalance(amounts, absorber, percent_rows, columns, currency, unit)
    for index, amount in enumerate(amounts):
        if amount <= 0:
            errors.append((index, _field(rows[index]), _("This installment comes to nothing: make it larger.")))
        elif index == absorber and not splittable(amount, columns, currency):
            message = _(
                "This installment comes to %(amount)s, which no invoice can total to the cent with VAT at %(rates)s: "
                "move a cent or two between it and another installment."
            ) % {"amount": money_format(amount, currency), "rates": _rates_text(columns)}
            errors.append((index, "percent", message))
    if errors:
        raise ScheduleError(errors)
    return amounts


def _percent_text(value: Fraction) -> str:
    with localcontext() as ctx:
        ctx.prec = 40
        percent = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{percent.quantize(Decimal(1).scaleb(-PERCENT_DECIMALS), rounding=ROUND_HALF_UP).normalize():f}"


def _field(row: Row) -> str:
    return "percent" if row.percent is not None else "amount"


def _steps():
    for distance in range(1, _NUDGE + 1):
        yield -distance
        yield distance


def _rebalance(amounts, absorber, percent_rows, columns, currency, unit) -> None:
    """The last percentage installment came to an amount no invoice can total exactly: move a few cents between it
    and the percentage installment before it (nearest move first), keeping both exact."""
    others = [i for i in percent_rows if i != absorber]
    if not others:
        return
    partner = others[-1]
    for step in _steps():
        moved = amounts[partner] + step * unit
        rest = amounts[absorber] - step * unit
        if moved <= 0 or rest <= 0:
            continue
        if splittable(moved, columns, currency) and splittable(rest, columns, currency):
            amounts[partner], amounts[absorber] = moved, rest
            return
