"""Checks on uploaded documents (ID card photos, relative proofs)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


def validate_document_image(upload) -> None:
    """Refuse files over 5 MB and anything that is not a JPEG, PNG or WebP image."""
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": MAX_DOCUMENT_BYTES // 2**20},
            code="too_large",
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        with Image.open(upload) as image:
            image.verify()
            kind = image.format
    except Image.DecompressionBombError:  # a small file claiming billions of pixels
        raise too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("Please upload a photo (JPEG, PNG or WebP)."), code="not_image"
        ) from None
    finally:
        upload.seek(position)
    if kind not in ALLOWED_FORMATS:
        raise ValidationError(_("Please upload a photo (JPEG, PNG or WebP)."), code="not_image")


def too_many_pixels() -> ValidationError:
    return ValidationError(_("This photo has too many pixels."), code="too_many_pixels")
