"""Properties of the money a credit note and a late fee add up, for any input (hypothesis)."""

from decimal import Decimal as D
from fractions import Fraction

from babel.numbers import get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from billing.pricing import (
    CreditItem,
    LineInput,
    credit_line_net,
    credit_summary,
    document_summary,
    late_interest,
    round_money,
)

CURRENCIES = ["EUR", "NOK", "JPY", "BHD"]
RATES = [D("0"), D("9"), D("12"), D("15"), D("21"), D("25")]


def minor(currency: str) -> D:
    return D(1).scaleb(-get_currency_precision(currency))


amounts = st.integers(min_value=1, max_value=10**9)


@st.composite
def credit_items(draw, currency: str):
    count = draw(st.integers(min_value=1, max_value=8))
    return [
        CreditItem(
            net=draw(amounts) * minor(currency),
            tax_rate=draw(st.sampled_from(RATES)),
            tax_label=draw(st.sampled_from(["", "VAT A", "VAT B"])),
            reverse_charge=draw(st.booleans()),
        )
        for _ in range(count)
    ]


@given(st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(st.just(c), credit_items(c))))
def test_a_credit_note_adds_up_from_its_rounded_parts(case):
    currency, items = case
    summary = credit_summary(items, currency=currency)
    assert summary.subtotal == sum(item.net for item in items)
    assert summary.vat_total == sum(group.vat for group in summary.vat_groups)
    assert summary.total == summary.subtotal + summary.vat_total
    assert sum(group.base for group in summary.vat_groups) == summary.subtotal
    for group in summary.vat_groups:
        # VAT is rounded once per group, from the exact base times the rate.
        assert group.vat == round_money(Fraction(group.base) * Fraction(group.rate) / 100, currency)
        if group.reverse_charge:
            assert group.vat == 0


@given(
    st.sampled_from(["EUR", "NOK"]),
    st.lists(st.tuples(st.integers(1, 50), st.integers(1, 10**7), st.sampled_from(RATES)), min_size=1, max_size=6),
)
def test_crediting_every_line_in_full_gives_back_the_invoice_exactly(currency, rows):
    """Per-line VAT bases of a document credited at their full quantity give the document's VAT and total."""
    lines = [
        LineInput(quantity=D(q), unit_price=D(cents) / 100, currency=currency, tax_rate=rate, tax_label=f"{rate}%")
        for q, cents, rate in rows
    ]
    invoice = document_summary(lines, currency=currency)
    items = [
        CreditItem(
            net=credit_line_net(base=result.net, quantity=line.quantity, of_quantity=line.quantity, currency=currency),
            tax_rate=line.tax_rate,
            tax_label=line.tax_label,
        )
        for line, result in zip(lines, invoice.lines, strict=True)
    ]
    note = credit_summary(items, currency=currency)
    assert note.subtotal == invoice.subtotal
    assert note.vat_total == invoice.vat_total
    assert note.total == invoice.total


@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(1, 1000), st.sampled_from(["EUR", "NOK"]))
def test_partial_credits_never_exceed_the_line(base_cents, of_quantity, quantity, currency):
    base = D(base_cents) / 100
    credited = credit_line_net(
        base=base, quantity=D(min(quantity, of_quantity)), of_quantity=D(of_quantity), currency=currency
    )
    assert D(0) <= credited <= base
    assert credited == credited.quantize(D("0.01"))


@given(st.integers(1, 10**9), st.integers(1, 20000), st.integers(1, 3650))
def test_late_interest_is_simple_interest_rounded_once(cents, rate_thousandths, days):
    amount, rate = D(cents) / 100, D(rate_thousandths) / 1000
    interest = late_interest(amount=amount, yearly_rate=rate, days=days, currency="EUR")
    exact = Fraction(amount) * Fraction(rate) / 100 * days / 365
    assert interest == round_money(exact, "EUR")
    assert abs(Fraction(interest) - exact) <= Fraction(1, 200)


def test_late_interest_worked_example():
    # 242.00 overdue 30 days at 10.15% a year: 242 x 0.1015 x 30 / 365 = 2.01883... -> 2.02
    assert late_interest(amount=D("242.00"), yearly_rate=D("10.15"), days=30, currency="EUR") == D("2.02")
    assert late_interest(amount=D("242.00"), yearly_rate=D("10.15"), days=0, currency="EUR") == D("0.00")


@given(
    st.integers(1, 10**8),
    st.lists(st.integers(1, 50), min_size=1, max_size=8),
    st.sampled_from(["EUR", "NOK", "JPY"]),
)
def test_crediting_a_line_in_parts_adds_up_to_exactly_its_base(base_minor, parts, currency):
    base = base_minor * minor(currency)
    of_quantity = D(sum(parts))
    credited, already = [], D(0)
    for part in parts:
        credited.append(
            credit_line_net(base=base, quantity=D(part), of_quantity=of_quantity, already=already, currency=currency)
        )
        already += part
    assert sum(credited) == base
    assert all(c >= 0 for c in credited)
