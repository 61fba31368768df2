import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk_app.models.money import AmountError, Money, format_money, parse_money, percent_of


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("$1,234.5", 123450), ("1234.50", 123450), (" 12 ", 1200), ("12", 1200), (".5", 50),
     ("$ 7.05", 705), ("CAD 10", 1000), ("10 CAD", 1000), ("1,000,000", 100_000_000),
     ("\u00a012.00\t", 1200), ("0.01", 1)],
)
def test_amounts_people_type_are_accepted(typed: str, cents: int) -> None:
    assert parse_money(typed, "CAD") == cents


@pytest.mark.parametrize(
    ("typed", "says"),
    [("12.345", "more than 2 decimals"), ("-5", "minus"), ("abc", "not an amount"),
     ("1e9", "not an amount"), ("", "Enter an amount"), ("0", "greater than zero"),
     ("1,23.00", "not an amount"), ("12..5", "not an amount"), ("99999999999", "largest"),
     ("(5.00)", "minus"), ("$-5", "minus"), ("1 2", "not an amount")],
)
def test_bad_amounts_are_refused_with_a_message(typed: str, says: str) -> None:
    with pytest.raises(AmountError, match=says):
        parse_money(typed, "CAD")


def test_yen_has_no_cents() -> None:
    assert parse_money("¥1,500", "JPY") == 1500
    with pytest.raises(AmountError, match="no cents"):
        parse_money("1500.5", "JPY")


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [(-2500, "USD", "-$25.00"), (123450, "CAD", "$1,234.50"), (5, "EUR", "€0.05"),
     (0, "GBP", "£0.00"), (1500, "JPY", "¥1,500")],
)
def test_amounts_are_shown_in_the_clinic_currency(cents: int, currency: str, shown: str) -> None:
    assert format_money(cents, currency) == shown


def test_tax_is_rounded_half_up_per_line() -> None:
    assert percent_of(11000, 1300) == 1430
    assert percent_of(1050, 500) == 53  # 52.5 rounds up
    assert percent_of(1049, 500) == 52  # 52.45 rounds down
    assert percent_of(-1050, 500) == -53


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "CAD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot mix"):
        Money(1, "CAD") + Money(1, "USD")
    assert Money(150, "CAD") - Money(200, "CAD") == Money(-50, "CAD")


@given(st.integers(min_value=1, max_value=999_999_999))
def test_what_is_shown_parses_back_to_the_same_cents(cents: int) -> None:
    assert parse_money(format_money(cents, "CAD"), "CAD") == cents


@given(st.text(max_size=30))
def test_the_parser_only_ever_refuses_with_a_message(text: str) -> None:
    try:
        cents = parse_money(text, "USD")
    except AmountError as error:
        assert str(error)
    else:
        assert 0 < cents <= 999_999_999
