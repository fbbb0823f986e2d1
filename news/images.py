"""News pictures: checked like any uploaded photo, then made at most ``MAX_WIDTH`` wide and
re-encoded without metadata (a phone photo carries its camera's EXIF, GPS included)."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from accounts.uploads import MAX_DOCUMENT_BYTES, too_many_pixels, validate_document_image

MAX_WIDTH = 1600  # pixels: sharp on any phone, a few hundred KB on the wire
MAX_BYTES = MAX_DOCUMENT_BYTES  # 5 MB, the project's limit on every uploaded photo
MAX_PIXELS = 64_000_000  # far more than any camera; a small PNG may claim a billion
JPEG_QUALITY = 85


class PreparedImage(ContentFile):
    """A picture already checked and re-encoded here: the services store it as it is."""


def prepare_image(upload) -> PreparedImage:
    """The upload re-encoded (PNG stays PNG, for drawings and transparency; everything else
    becomes JPEG), upright, at most ``MAX_WIDTH`` px wide; or a ``ValidationError`` in the
    user's language (too large, not a picture)."""
    validate_document_image(upload)  # at most 5 MB, and really a JPEG, PNG or WebP
    try:
        with Image.open(upload) as image:
            if image.width * image.height > MAX_PIXELS:
                raise too_many_pixels()
            keep_png = image.format == "PNG"
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA" if keep_png else "RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(
            _("Please upload a photo (JPEG, PNG or WebP)."), code="not_image"
        ) from None
    finally:
        upload.seek(0)
    if image.width > MAX_WIDTH:
        height = max(1, round(image.height * MAX_WIDTH / image.width))
        image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    # A fresh image has no ``.info``: nothing of the original (EXIF, ICC, text) is written.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    if keep_png:
        clean.save(out, "PNG", optimize=True)
        return PreparedImage(out.getvalue(), name="picture.png")
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return PreparedImage(out.getvalue(), name="picture.jpg")
