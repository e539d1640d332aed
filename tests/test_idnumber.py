"""GB 11643 ID numbers: checksum, birth date, 18-character form, normalisation and masking."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assist import idnumber

regions = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@given(regions, births, sequences)
def test_made_numbers_are_valid_and_carry_their_birth_date(region, born, seq):
    number = idnumber.make(region, born, seq)
    parsed = idnumber.parse(number)
    assert parsed.value == number
    assert parsed.birth_date == born
    assert parsed.male == (seq % 2 == 1)
    # the mask hides exactly the birth date: which is why no birth date is shown or kept beside it
    assert idnumber.birth_date_of(number) == born
    assert idnumber.mask(number) == number[:6] + "********" + number[14:]


@given(regions, births, sequences, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_one_digit_breaks_the_checksum(region, born, seq, position, delta):
    number = idnumber.make(region, born, seq)
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(idnumber.InvalidIdNumber):
        # either the checksum or the embedded date (or region) no longer holds
        idnumber.parse(changed)


@given(regions, births, sequences)
def test_transposing_neighbours_is_caught(region, born, seq):
    number = idnumber.make(region, born, seq)
    for i in range(16):
        a, b = number[i], number[i + 1]
        if a == b:
            continue
        swapped = number[:i] + b + a + number[i + 2 :]
        assert not idnumber.is_valid(swapped) or swapped == number


def test_lower_case_x_is_accepted_and_normalised():
    born = date(1980, 5, 17)
    number = next(
        idnumber.make("330482", born, s) for s in range(1000) if idnumber.make("330482", born, s).endswith("X")
    )
    parsed = idnumber.parse(" " + number.lower() + " ")
    assert parsed.value == number


@pytest.mark.parametrize(
    "text, reason",
    [
        ("33048219800517123", "18 characters"),
        ("3304821980051712345", "18 characters"),
        ("33048219801317123X", "not a real date"),
        ("330482198002301230", "not a real date"),
        ("33048221990101123X", "not plausible"),
        ("03048219800517123X", "region"),
        ("33048219800517ABCD", "17 digits"),
        ("３３０４８２１９８００５１７１２３４", "17 digits"),
    ],
)
def test_bad_numbers_say_why(text, reason):
    with pytest.raises(idnumber.InvalidIdNumber) as info:
        idnumber.parse(text, today=date(2026, 11, 23))
    assert reason in str(info.value)


def test_checksum_error_is_named():
    number = idnumber.make("330482", date(1980, 5, 17), 123)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(idnumber.InvalidIdNumber, match="check character"):
        idnumber.parse(wrong)


def test_mask_shows_region_and_last_four():
    assert idnumber.mask("33048219800517123X") == "330482********123X"
