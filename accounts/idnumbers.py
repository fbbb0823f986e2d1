"""Chinese resident ID numbers (GB 11643-1999): validation, parsing, encryption, masking.

The number is personal information: it is stored encrypted (Fernet), kept unique through a
keyed hash (HMAC-SHA256), and only ever shown masked. Both keys are derived with HKDF from
``settings.FIELD_ENCRYPTION_KEY`` so one setting rotates both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2, indexed by (sum of weighted digits) % 11
PATTERN = re.compile(r"^[1-9]\d{16}[\dX]$")


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    sex: str  # "M" or "F", as accounts.models.Member.Sex


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def parse_id_number(value: str) -> IdNumber:
    """Validate an 18-character ID number and derive its birth date and sex."""
    number = normalize(value)
    if len(number) != 18:
        raise ValidationError(_("An ID number has exactly 18 characters."), code="length")
    if not PATTERN.match(number):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="format"
        )
    if check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("This ID number's check digit is wrong; please check it again."), code="checksum"
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside this ID number does not exist."), code="birth_date"
        ) from None
    if birth > timezone.localdate() or birth.year < 1900:
        raise ValidationError(
            _("The birth date inside this ID number is not possible."), code="birth_date"
        )
    sex = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex)


def make_id_number(*, birth_date: date, sex: str, serial: int, region: str = "310105") -> str:
    """A valid (fictional) ID number: for tests and demo data."""
    seq = serial % 100
    sex_digit = (serial // 100) % 5 * 2 + (1 if sex == "M" else 0)
    first17 = f"{region}{birth_date:%Y%m%d}{seq:02d}{sex_digit}"
    return first17 + check_char(first17)


def mask(number: str) -> str:
    """``310105195901011234`` → ``3101**********1234``."""
    number = normalize(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def _derive(purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"timebank-id-number", info=purpose
    ).derive(str(settings.FIELD_ENCRYPTION_KEY).encode())


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"fernet")))


def encrypt(number: str) -> str:
    return _fernet().encrypt(normalize(number).encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def keyed_hash(number: str) -> str:
    return hmac.new(_derive(b"hmac"), normalize(number).encode(), hashlib.sha256).hexdigest()


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
