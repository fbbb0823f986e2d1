"""Item photos: checked like any document, stored upright, small, as JPEG, without EXIF."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from exchange.models import Item
from exchange.photos import MAX_SIDE, prepare_photo
from tests.exchange.test_admin import loaded_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

RED, BLUE = (220, 20, 20), (20, 20, 220)
ORIENTATION = 0x0112  # the EXIF tag; 6 = "turn 90° clockwise to show"
NOT_A_PHOTO = "请上传照片（JPEG、PNG 或 WebP 格式）。"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def sideways_png(width: int = 2400, height: int = 1600) -> bytes:
    """A camera shot stored sideways: red on the left, blue on the right, with an EXIF tag
    saying that turned upright the left (red) is at the top."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "相机厂商"  # Make: metadata that must not survive
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


def upload(data: bytes, name: str = "IMG_20260101_王阿姨.png", kind: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=kind)


def near(pixel, colour) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True))


def test_it_turns_shrinks_and_re_encodes_a_large_png_without_its_exif():
    source = sideways_png()
    with Image.open(io.BytesIO(source)) as original:
        assert original.getexif()[ORIENTATION] == 6  # the test image carries it
    photo = prepare_photo(upload(source))
    assert photo.name == "photo.jpg"
    with Image.open(io.BytesIO(photo.read())) as stored:
        assert stored.format == "JPEG"
        # Upright it is 1600 wide and 2400 high; the long side comes down to 800.
        assert stored.size == (533, MAX_SIDE)
        assert len(stored.getexif()) == 0
        assert "exif" not in stored.info and "icc_profile" not in stored.info
        assert near(stored.getpixel((266, 100)), RED)  # the left is now the top
        assert near(stored.getpixel((266, 700)), BLUE)


def test_it_keeps_a_small_photo_at_its_size_and_lays_transparency_on_white():
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((20, 20, 220, 255), (0, 0, 150, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    with Image.open(prepare_photo(upload(out.getvalue()))) as stored:
        assert stored.size == (300, 200)  # never enlarged
        assert near(stored.getpixel((75, 100)), BLUE)
        assert near(stored.getpixel((225, 100)), (255, 255, 255))


def test_it_refuses_a_text_file_named_jpg_and_a_file_over_5_mb():
    with pytest.raises(ValidationError) as refused:
        prepare_photo(upload(b"just some text, not a photo\n", "rice.jpg", "image/jpeg"))
    assert refused.value.messages == [NOT_A_PHOTO]
    big = upload(b"\xff\xd8" + b"0" * (5 * 1024 * 1024 - 1), "big.jpg", "image/jpeg")
    with pytest.raises(ValidationError) as refused:
        prepare_photo(big)
    assert refused.value.messages == ["文件太大：最大 5 MB。"]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size and stops at its first data: all Pillow reads before it
    refuses a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"\x78\x9c")


def test_it_refuses_small_files_that_claim_too_many_pixels():
    too_many = ["照片像素过多，请缩小后再上传。"]
    with pytest.raises(ValidationError) as refused:
        prepare_photo(upload(png_header(40000, 40000)))  # 1.6 billion: Pillow's bomb limit
    assert refused.value.messages == too_many
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # 81 million pixels in a few kB: ours
    with pytest.raises(ValidationError) as refused:
        prepare_photo(upload(out.getvalue()))
    assert refused.value.messages == too_many


def _new_item(data: dict) -> dict:
    data.update(name="保温杯", kind="goods", price="3", donor_kind="person", min_level="0")
    return data


def test_head_office_uploads_a_photo_stored_small_under_a_random_name(client, head_office):
    client.force_login(head_office)
    url = reverse("admin:exchange_item_add")
    data = _new_item(loaded_form(client, url, "item_form"))
    response = client.post(url, {**data, "photo": upload(sideways_png())})
    assert response.status_code == 302
    item = Item.objects.get(name="保温杯")
    assert item.photo.name.startswith("exchange-items/") and item.photo.name.endswith(".jpg")
    assert "IMG" not in item.photo.name and "王" not in item.photo.name
    assert item.photo.path.startswith(os.path.abspath(str(item.photo.storage.location)))
    with Image.open(item.photo.path) as stored:
        assert (stored.format, max(stored.size)) == ("JPEG", MAX_SIDE)
    change = client.get(reverse("admin:exchange_item_change", args=[item.pk])).content.decode()
    photo_url = reverse("admin:exchange_item_photo", args=[item.pk])
    assert f'href="{photo_url}"' in change and "查看照片" in change
    assert item.photo.name not in change  # the stored name stays private
    served = client.get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_the_admin_refuses_a_text_file_renamed_jpg_with_the_chinese_message(client, head_office):
    client.force_login(head_office)
    url = reverse("admin:exchange_item_add")
    data = _new_item(loaded_form(client, url, "item_form"))
    fake = upload(b"\xe8\xbf\x99\xe4\xb8\x8d\xe6\x98\xaf\xe7\x85\xa7\xe7\x89\x87", "rice.jpg")
    response = client.post(url, {**data, "photo": fake})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["photo"] == [NOT_A_PHOTO]
    assert not Item.objects.exists()


def test_only_catalogue_readers_get_the_photo(client, head_office, official, staff_a):
    client.force_login(head_office)
    url = reverse("admin:exchange_item_add")
    data = _new_item(loaded_form(client, url, "item_form"))
    client.post(url, {**data, "photo": upload(sideways_png(400, 300))})
    item = Item.objects.get()
    photo_url = reverse("admin:exchange_item_photo", args=[item.pk])
    client.force_login(official)
    assert client.get(photo_url).status_code == 200
    page = client.get(reverse("admin:exchange_item_change", args=[item.pk])).content.decode()
    assert f'href="{photo_url}"' in page  # a read-only page links it too
    client.force_login(staff_a)
    assert client.get(photo_url).status_code == 404
    for junk in ("abc", "99999999999999999999", str(item.pk + 1)):
        client.force_login(head_office)
        assert client.get(f"/admin/exchange/item/{junk}/photo/").status_code == 404
