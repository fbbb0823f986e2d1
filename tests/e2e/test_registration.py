"""A volunteer registers on a 360 px phone; a street staff member approves them in admin."""

import copy
import io
import re
import uuid

import pytest
from PIL import Image

from accounts import idnumbers
from accounts.models import Member
from tests.factories import years_ago

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SENT: list[str] = []


class MemorySender:
    """Keeps SMS texts in memory so the test can read the code (the site runs in-process)."""

    def send(self, *, phone: str, text: str, **kwargs) -> str:
        # The gateways' keywords (a template's params, …) as every sender takes them: on
        # SQLite the approval's messages are sent at once, through this sender too.
        SENT.append(text)
        return ""


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), "lightgray").save(buffer, "JPEG")
    return buffer.getvalue()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_volunteer_registers_on_a_phone_and_street_staff_approve(
    live_server, phone, browser, settings, street_a, staff_a
):
    settings.SMS_SENDER = f"{__name__}.MemorySender"
    # allauth keeps rate limits in the cache: use a fresh key prefix of the same cache.
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"e2e-registration-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    SENT.clear()
    number = idnumbers.make_id_number(birth_date=years_ago(64), sex="F", serial=11)

    # 1. Sign up with a mobile number and a password, confirm the SMS code.
    phone.goto(live_server.url + "/auth/signup/")
    _fits(phone)
    phone.fill("input[name=phone]", "139 1234 5678")
    phone.fill("input[name=password1]", "Volunteer-pass-2026")
    phone.fill("input[name=password2]", "Volunteer-pass-2026")
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(re.compile(r"/auth/"))
    code = re.search(r"\d{6}", SENT[-1]).group(0)
    phone.fill("input[name=code]", code)
    phone.locator("main form button[type=submit]").first.click()

    # 2. Register with real name, ID number, street and an ID photo.
    phone.wait_for_url(re.compile(r"/me/register/"))
    _fits(phone)
    phone.get_by_label("志愿者（服务提供者）").check()
    phone.fill("input[name=full_name]", "沈桂芳")
    phone.fill("input[name=id_number]", number)
    phone.select_option("select[name=street]", label="天山")
    phone.fill("input[name=emergency_contact_name]", "沈家人")
    phone.fill("input[name=emergency_contact_phone]", "13811112222")
    phone.set_input_files(
        "input[name=id_document_front]",
        files=[{"name": "front.jpg", "mimeType": "image/jpeg", "buffer": _photo()}],
    )
    submit = phone.locator("main form button[type=submit]")
    assert submit.bounding_box()["height"] >= 44
    submit.click()
    phone.wait_for_url(re.compile(r"/me/$"))
    body = phone.locator("main").inner_text()
    assert "待审核" in body and idnumbers.mask(number) in body and number not in body
    _fits(phone)
    assert phone.console_errors == []
    member = Member.objects.get(user__phone="+8613912345678")
    assert member.status == Member.Status.APPLIED and member.sex == "F"

    # 3. Street staff of 天山 log in and approve the registration in admin.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk = context.new_page()
    desk.goto(live_server.url + "/auth/login/")
    desk.fill("input[name=login]", str(staff_a.phone.national_number))
    desk.fill("input[name=password]", "demo-pass-2026")
    desk.locator("main form button[type=submit]").first.click()
    desk.wait_for_load_state()
    desk.goto(live_server.url + "/admin/accounts/member/?status__exact=applied")
    assert "沈桂芳" in desk.locator("#result_list").inner_text()
    desk.check(f"input[name=_selected_action][value='{member.pk}']")
    desk.select_option("select[name=action]", "approve")
    desk.locator("button[name=index]").click()
    desk.wait_for_load_state()
    assert "已通过 1 人的注册：沈桂芳" in desk.locator(".messagelist").inner_text()
    context.close()
    member.refresh_from_db()
    assert member.status == Member.Status.VERIFIED and member.reviewed_by == staff_a

    # 4. The volunteer's profile now lists only what is still missing (training, insurance).
    phone.goto(live_server.url + "/me/")
    missing = phone.locator(".missing").inner_text()
    assert "培训" in missing and "保险" in missing and "审核" not in missing
