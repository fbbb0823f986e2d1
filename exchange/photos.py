"""Item photos: checked like any uploaded document, then made small and plain before they
are stored (a phone photo is megabytes, carries the camera's EXIF data, GPS included, and
may be stored sideways with only an EXIF tag saying which way is up)."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from accounts.uploads import too_many_pixels, validate_document_image

MAX_SIDE = 800  # pixels on the long side: sharp on a phone, small on the wire
JPEG_QUALITY = 85
# Far more than any camera, far less than Pillow's own bomb limit: a 5 MB PNG of one colour
# can claim a billion pixels and would take gigabytes to decode.
MAX_PIXELS = 64_000_000
BACKGROUND = (255, 255, 255)  # what shows through a transparent PNG


def prepare_photo(upload) -> ContentFile:
    """The upload as a JPEG of at most ``MAX_SIDE`` px, upright, without any metadata; or a
    ``ValidationError`` in the user's language (too large, not a JPEG/PNG/WebP photo)."""
    validate_document_image(upload)
    try:
        with Image.open(upload) as image:
            if image.width * image.height > MAX_PIXELS:
                raise too_many_pixels()
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG decodes at a smaller scale
            small = _upright_rgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(
            _("Please upload a photo (JPEG, PNG or WebP)."), code="not_image"
        ) from None
    finally:
        upload.seek(0)
    small.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    _clean_copy(small).save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    # upload_to (RandomName) keeps only the extension: the stored name is random.
    return ContentFile(out.getvalue(), name="photo.jpg")


def _upright_rgb(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation to the pixels and lay any transparency on white."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _clean_copy(image: Image.Image) -> Image.Image:
    """A fresh image has no ``.info``: nothing of the original (EXIF, ICC, comments) is
    written with it."""
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean
