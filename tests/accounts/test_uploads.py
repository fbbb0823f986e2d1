"""Uploaded photos: a small file that claims billions of pixels is refused with its reason."""

import pytest


def test_a_decompression_bomb_is_refused_with_its_reason():
    import io

    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from accounts.uploads import validate_document_image

    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")  # 400 Mpx: over Pillow's bomb limit
    upload = SimpleUploadedFile("id.png", out.getvalue(), content_type="image/png")
    with pytest.raises(ValidationError) as refused:
        validate_document_image(upload)
    assert refused.value.code == "too_many_pixels"
