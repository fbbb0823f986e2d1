from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts import idnumbers

# A published sample number with a correct MOD 11-2 check character.
KNOWN = "11010519491231002X"


def test_it_accepts_a_valid_number_and_derives_birth_date_and_sex():
    parsed = idnumbers.parse_id_number(KNOWN.lower())
    assert parsed.number == KNOWN
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"  # 17th digit 2 is even


def test_it_derives_male_from_an_odd_17th_digit():
    number = idnumbers.make_id_number(birth_date=date(1960, 2, 29), sex="M", serial=7)
    assert int(number[16]) % 2 == 1
    assert idnumbers.parse_id_number(number).sex == "M"
    assert idnumbers.parse_id_number(number).birth_date == date(1960, 2, 29)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "length"),
        ("11010519491231002", "length"),  # 17 characters
        ("11010519491231002X1", "length"),  # 19 characters
        ("01010519491231002X", "format"),  # leading zero region
        ("1101051949123100AX", "format"),
        ("110105194912310021", "checksum"),  # last character off by one
        ("110105194912310020", "checksum"),
    ],
)
def test_it_rejects_malformed_numbers(value, code):
    with pytest.raises(ValidationError) as exc:
        idnumbers.parse_id_number(value)
    assert exc.value.code == code


def _with_check(first17: str) -> str:
    return first17 + idnumbers.check_char(first17)


@pytest.mark.parametrize("birth", ["19590230", "19610229", "19591301", "19590000", "18991231"])
def test_it_rejects_impossible_birth_dates(birth):
    with pytest.raises(ValidationError) as exc:
        idnumbers.parse_id_number(_with_check(f"310105{birth}123"))
    assert exc.value.code == "birth_date"


def test_it_rejects_a_birth_date_in_the_future_but_accepts_today():
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    with pytest.raises(ValidationError):
        idnumbers.parse_id_number(_with_check(f"310105{tomorrow:%Y%m%d}123"))
    assert idnumbers.parse_id_number(_with_check(f"310105{today:%Y%m%d}123")).birth_date == today


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    st.sampled_from(["M", "F"]),
    st.integers(min_value=0, max_value=499),
)
def test_it_round_trips_generated_numbers(birth, sex, serial):
    number = idnumbers.make_id_number(birth_date=birth, sex=sex, serial=serial)
    parsed = idnumbers.parse_id_number(number)
    assert (parsed.birth_date, parsed.sex) == (birth, sex)
    # Changing any one digit of the first 17 breaks the check character.
    broken = str((int(number[3]) + 1) % 10)
    with pytest.raises(ValidationError):
        idnumbers.parse_id_number(number[:3] + broken + number[4:])


def test_it_masks_encrypts_and_hashes(settings):
    assert idnumbers.mask(KNOWN) == "1101**********002X"
    token = idnumbers.encrypt(KNOWN)
    assert KNOWN not in token
    assert idnumbers.decrypt(token) == KNOWN
    assert idnumbers.keyed_hash(KNOWN) == idnumbers.keyed_hash(KNOWN.lower())
    first = idnumbers.keyed_hash(KNOWN)
    settings.FIELD_ENCRYPTION_KEY = "another key"
    assert idnumbers.keyed_hash(KNOWN) != first
