"""News pictures: only real JPEG, PNG or WebP images, at most 1600 px wide, re-encoded
without the camera's metadata."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from news.images import MAX_BYTES, MAX_WIDTH, prepare_image

NOT_A_PHOTO = "请上传照片（JPEG、PNG 或 WebP 格式）。"


def picture(width: int, height: int, kind: str = "JPEG", **save) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, kind, **save)
    extension = kind.lower()
    return SimpleUploadedFile(f"照片.{extension}", out.getvalue(), f"image/{extension}")


def test_it_refuses_a_file_that_is_not_a_picture_in_chinese():
    fake = SimpleUploadedFile("通知.jpg", b"<html>not a picture</html>", "image/jpeg")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        prepare_image(fake)
    assert caught.value.messages == [NOT_A_PHOTO]


def test_it_refuses_a_gif():
    with pytest.raises(ValidationError) as caught:
        prepare_image(picture(20, 20, "GIF"))
    assert caught.value.code == "not_image"


def test_it_refuses_a_file_over_the_limit():
    big = SimpleUploadedFile("大.jpg", b"\xff" * (MAX_BYTES + 1), "image/jpeg")
    with pytest.raises(ValidationError) as caught:
        prepare_image(big)
    assert caught.value.code == "too_large"


def test_it_resizes_a_wide_picture_keeping_its_proportions():
    exif = Image.Exif()
    exif[0x010F] = "相机厂商"  # Make: metadata that must not survive
    prepared = prepare_image(picture(3000, 1500, exif=exif))
    with Image.open(io.BytesIO(prepared.read())) as image:
        assert image.format == "JPEG"
        assert image.size == (MAX_WIDTH, 800)
        assert not image.getexif()
    assert prepared.name == "picture.jpg"


def test_it_keeps_a_small_picture_its_size_and_a_png_a_png():
    prepared = prepare_image(picture(400, 300, "PNG"))
    with Image.open(io.BytesIO(prepared.read())) as image:
        assert (image.format, image.size) == ("PNG", (400, 300))
    assert prepared.name == "picture.png"
