"""ID card photos and relative proofs: private storage, random names, scoped download views."""

import io
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts import services
from accounts.models import Member
from tests.factories import MemberFactory, RelativeFactory, UserFactory

pytestmark = pytest.mark.django_db

UPLOADED_NAME = "zhang-san-310105195001011234.png"


def _png(name=UPLOADED_NAME):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def applicant(street_a):
    """A 天山 member who uploaded both sides of their ID card."""
    member = MemberFactory(street=street_a, status="applied")
    member.id_document_front = _png()
    member.id_document_back = _png()
    member.save()
    return member


def _front(member):
    return reverse("accounts:id_document", args=[member.pk, "front"])


def test_it_stores_id_photos_privately_under_a_random_name(applicant):
    name = applicant.id_document_front.name
    assert name.startswith("id-documents/") and name.endswith(".png")
    assert "zhang-san" not in name and "310105" not in name
    assert applicant.id_document_front.name != applicant.id_document_back.name
    path = applicant.id_document_front.path
    assert path.startswith(os.path.abspath(settings.PRIVATE_MEDIA_ROOT))
    assert not path.startswith(os.path.abspath(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):
        applicant.id_document_front.url  # noqa: B018 -- no public URL exists


def test_registration_stores_the_upload_under_a_random_name(street_a):
    from tests.accounts.test_services import _id

    member = services.register_member(
        user=UserFactory(),
        role="volunteer",
        street=street_a,
        full_name="陈志愿",
        id_number=_id(65),
        id_document_front=_png(),
    )
    assert UPLOADED_NAME.removesuffix(".png") not in member.id_document_front.name


def test_it_shows_the_member_their_own_id_photo(client, applicant):
    client.force_login(applicant.user)
    response = client.get(_front(applicant))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert "zhang-san" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_it_shows_the_id_photo_to_staff_of_the_members_street(client, applicant, staff_a):
    client.force_login(staff_a)
    assert client.get(_front(applicant)).status_code == 200
    back = reverse("accounts:id_document", args=[applicant.pk, "back"])
    assert client.get(back).status_code == 200


def test_it_hides_the_id_photo_from_staff_of_another_street(client, applicant, staff_b):
    client.force_login(staff_b)
    assert client.get(_front(applicant)).status_code == 404


def test_it_hides_the_id_photo_from_other_members_and_outsiders(
    client, applicant, volunteer, outsider
):
    for user in (volunteer, outsider):
        client.force_login(user)
        assert client.get(_front(applicant)).status_code == 404


def test_it_sends_anonymous_visitors_to_the_login_page(client, applicant):
    response = client.get(_front(applicant))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_answers_404_without_a_document_or_for_an_unknown_side(client, staff_a, street_a):
    member = MemberFactory(street=street_a)
    client.force_login(staff_a)
    assert client.get(_front(member)).status_code == 404
    assert member.id_document_front.name in ("", None)
    odd = reverse("accounts:id_document", args=[member.pk, "user"])
    assert client.get(odd).status_code == 404


@pytest.fixture
def link_with_proof(street_a):
    link = RelativeFactory(member__street=street_a, status="pending")
    link.proof = _png("hukou-booklet.png")
    link.save()
    return link


def _proof(link):
    return reverse("accounts:relative_proof", args=[link.pk])


def test_it_stores_relative_proofs_under_a_random_name(link_with_proof):
    name = link_with_proof.proof.name
    assert name.startswith("relative-proofs/") and "hukou" not in name
    assert link_with_proof.proof.path.startswith(os.path.abspath(settings.PRIVATE_MEDIA_ROOT))


def test_relative_proofs_are_scoped_like_id_photos(
    client, link_with_proof, staff_a, staff_b, outsider
):
    url = _proof(link_with_proof)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user, status in (
        (link_with_proof.member.user, 200),
        (staff_a, 200),
        (staff_b, 404),
        (outsider, 404),
        (link_with_proof.relative, 404),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert response["Cache-Control"] == "private, no-store"
            assert response["X-Content-Type-Options"] == "nosniff"


def test_the_admin_links_to_the_download_views(client, staff_a, applicant, link_with_proof):
    client.force_login(staff_a)
    page = client.get(reverse("admin:accounts_member_change", args=[applicant.pk]))
    body = page.content.decode()
    assert _front(applicant) in body
    assert reverse("accounts:id_document", args=[applicant.pk, "back"]) in body
    assert settings.MEDIA_URL + "id-documents" not in body
    assert 'type="file"' not in body  # the photos are the applicant's; staff only view them
    body = client.get(reverse("admin:accounts_relative_change", args=[link_with_proof.pk]))
    assert _proof(link_with_proof) in body.content.decode()


def test_no_url_serves_uploaded_files_publicly(client, applicant):
    name = applicant.id_document_front.name
    for root in ("/media/", "/private-media/"):
        assert client.get(root + name).status_code == 404


def test_the_stored_file_keeps_only_the_extension(street_a):
    member = MemberFactory(street=street_a, status=Member.Status.APPLIED)
    member.id_document_front = _png("../../etc/passwd.PNG")
    member.save()
    assert member.id_document_front.name.endswith(".png")
    assert "passwd" not in member.id_document_front.name


def test_the_migration_moves_old_public_uploads_into_private_storage(
    settings, tmp_path, street_a, django_capture_on_commit_callbacks
):
    from django.core.files.storage import FileSystemStorage

    from accounts.models import Relative
    from branches.private_files import move_to_private_storage

    settings.MEDIA_ROOT = str(tmp_path / "public")
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    old = public.save("id-documents/2025/zhang-san.png", _png())
    member = MemberFactory(street=street_a)
    Member.objects.filter(pk=member.pk).update(id_document_front=old)
    member.history.update(id_document_front=old)
    with django_capture_on_commit_callbacks(execute=True):
        moved = move_to_private_storage(
            Member,
            {"id_document_front": "id-documents", "id_document_back": "id-documents"},
            history_model=Member.history.model,
        )
    assert moved == 1
    member.refresh_from_db()
    assert member.id_document_front.name.startswith("id-documents/")
    assert "zhang-san" not in member.id_document_front.name
    assert member.id_document_front.read().startswith(b"\x89PNG")
    assert not public.exists(old)
    assert not member.history.filter(id_document_front=old).exists()
    assert move_to_private_storage(Relative, {"proof": "relative-proofs"}) == 0
