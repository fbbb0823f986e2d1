"""Service needs, their places, grabs, sign-in/out, evaluations (ARCHITECTURE.md, "Orders").

Amounts are integer minutes. State changes live in ``orders.services``; nothing here moves
a model from one state to another.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from timebank.policy import EARLY_ACCESS_MINUTES

# No 0/O, 1/I/L: the code is read aloud and typed by older people.
CHECKIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CHECKIN_CODE_LENGTH = 6


def new_checkin_code() -> str:
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH))


class Mode(models.TextChoices):
    INSTITUTION = "institution", _("In an institution")
    HOME = "home", _("At home")


class ServiceCategory(models.Model):
    """What kind of help a need asks for. Data, not code: staff add their own."""

    class Modes(models.TextChoices):
        INSTITUTION = "institution", _("In an institution")
        HOME = "home", _("At home")
        ANY = "any", _("Anywhere")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64, blank=True)
    mode = models.CharField(_("where"), max_length=16, choices=Modes.choices, default=Modes.ANY)
    is_housekeeping = models.BooleanField(
        _("housekeeping"),
        default=False,
        help_text=_("Housekeeping (cleaning, cooking, laundry) may not be posted as a need."),
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def allows(self, mode: str) -> bool:
        return self.mode == self.Modes.ANY or self.mode == mode


EARLY_LEVEL_CHOICES = [
    (0, _("Anyone: every volunteer may grab at once")),
    (1, _("One star or more")),
    (2, _("Two stars or more")),
    (3, _("Three stars or more")),
    (4, _("Four stars or more")),
    (5, _("Five stars")),
]


class ServiceRequest(models.Model):
    """A need (服务需求): posted, approved twice, published, grabbed, closed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for the street branch")
        STREET_APPROVED = "street_approved", _("Waiting for head office")
        PUBLISHED = "published", _("Published")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    CLOSED = (Status.COMPLETED, Status.CANCELLED, Status.EXPIRED)

    class Payer(models.TextChoices):
        MEMBER = "member", _("The elder")
        BASE = "base", _("The service base")

    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("category"), on_delete=models.PROTECT
    )
    mode = models.CharField(_("where"), max_length=16, choices=Mode.choices)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    requirements = models.TextField(_("requirements"), blank=True)
    street = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="service_requests",
        limit_choices_to={"kind": "street"},
    )
    base = models.ForeignKey(
        "branches.ServiceBase",
        verbose_name=_("service base"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    address = models.CharField(_("place"), max_length=255)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    duration_minutes = models.PositiveIntegerField(_("agreed duration (minutes)"))
    places = models.PositiveSmallIntegerField(_("volunteers wanted"), default=1)
    filled = models.PositiveSmallIntegerField(_("places taken"), default=0)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services_received",
    )
    recipient_name = models.CharField(_("recipient's name"), max_length=64, blank=True)
    payer_kind = models.CharField(_("paid by"), max_length=8, choices=Payer.choices)
    auto_confirm = models.BooleanField(_("confirm volunteers automatically"), default=False)
    early_min_level = models.PositiveSmallIntegerField(
        _("first hour only for volunteers of"), choices=EARLY_LEVEL_CHOICES, default=0
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    checkin_code = models.CharField(_("sign-in code"), max_length=8, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        related_name="service_requests_posted",
    )
    # The posting form's one-time id: a double click or a resent form posts the need once.
    submission_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    street_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by street branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street_approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by head office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service need")
        verbose_name_plural = _("service needs")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(filled__lte=models.F("places")), name="request_filled_le_places"
            ),
            models.CheckConstraint(condition=models.Q(places__gte=1), name="request_places_ge_1"),
            models.CheckConstraint(
                condition=models.Q(early_min_level__lte=5), name="request_early_level_le_5"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="request_duration_gt_0"
            ),
            models.CheckConstraint(
                condition=~models.Q(payer_kind="base") | models.Q(base__isnull=False),
                name="request_base_payer_has_base",
            ),
            models.CheckConstraint(
                condition=~models.Q(payer_kind="member") | models.Q(recipient__isnull=False),
                name="request_member_payer_has_recipient",
            ),
        ]
        indexes = [
            # Reports (reports.figures): needs submitted, decided by the street and published
            # in a period.
            models.Index(fields=["submitted_at"], name="request_submitted_at"),
            models.Index(fields=["street_approved_at"], name="request_street_approved_at"),
            models.Index(fields=["published_at"], name="request_published_at"),
            # The order hall pages through it (orders.selectors.published_requests).
            models.Index(fields=["status", "starts_at"], name="request_status_start"),
            # The two approval queues (their lists, counts and date bars): a few hundred rows
            # among 200,000, which the street index alone reaches only by discarding.
            models.Index(
                fields=["status", "starts_at"],
                condition=models.Q(status__in=["submitted", "street_approved"]),
                name="request_queue_status",
            ),
            # "Needs I manage" on /orders/: the open needs of a poster, a base, a street (the
            # last also serves the order hall filtered by street).
            models.Index(
                fields=["posted_by", "starts_at"],
                condition=~models.Q(status__in=["completed", "cancelled", "expired"]),
                name="request_open_poster",
            ),
            models.Index(
                fields=["base", "starts_at"],
                condition=~models.Q(status__in=["completed", "cancelled", "expired"]),
                name="request_open_base",
            ),
            # Services to confirm or rate on /orders/, the latest first: an elder's, a base's.
            models.Index(fields=["recipient", "starts_at"], name="request_recipient_start"),
            models.Index(fields=["base", "starts_at"], name="request_base_start"),
            models.Index(
                fields=["street", "starts_at"],
                condition=~models.Q(status__in=["completed", "cancelled", "expired"]),
                name="request_open_street",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("orders:detail", args=[self.pk])

    @property
    def ends_at(self) -> datetime:
        try:
            return self.starts_at + timedelta(minutes=self.duration_minutes)
        except OverflowError:  # a start at the calendar's end, stored before posting refused it
            return datetime.max.replace(tzinfo=self.starts_at.tzinfo)

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED

    @property
    def early_access_until(self) -> datetime | None:
        """Until when only volunteers of ``early_min_level`` or more may grab (None: anyone)."""
        if not self.early_min_level or self.published_at is None:
            return None
        return self.published_at + timedelta(minutes=EARLY_ACCESS_MINUTES)

    def in_early_access(self, now: datetime | None = None) -> bool:
        until = self.early_access_until
        return until is not None and (now or timezone.now()) < until

    @property
    def early_access_note(self) -> str:
        """The early-access sentence while it applies, else ""."""
        return self.early_access_message() if self.in_early_access() else ""

    def early_access_message(self) -> str:
        """该需求发布后一小时内仅限三星及以上志愿者抢单，15点30分后开放."""
        from ledger.honour import level_name

        until = timezone.localtime(self.early_access_until)
        return gettext(
            "For its first hour after publication this need is open only to volunteers of "
            "%(level)s or more; everyone may grab it from %(time)s."
        ) % {
            "level": level_name(self.early_min_level),
            "time": gettext("%(hour)d:%(minute)02d") % {"hour": until.hour, "minute": until.minute},
        }

    @property
    def open_places(self) -> int:
        return self.places - self.filled

    @property
    def recipient_display(self) -> str:
        if self.recipient_id:
            return str(self.recipient)
        return self.recipient_name or (str(self.base) if self.base_id else "")


class Place(models.Model):
    """One volunteer place of a published need; it carries the payer's hold."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        TAKEN = "taken", _("Taken")
        SETTLED = "settled", _("Settled")
        RELEASED = "released", _("Released")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="place_set")
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    hold_transfer_id = models.UUIDField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="place_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.request} #{self.number}"

    @property
    def reference(self) -> str:
        return f"place:{self.pk}"


class Assignment(models.Model):
    """A volunteer's grab of one place (抢单), through to completion."""

    class Status(models.TextChoices):
        GRABBED = "grabbed", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        SIGNED_IN = "signed_in", _("Signed in")
        SIGNED_OUT = "signed_out", _("Signed out")
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    ACTIVE = (Status.GRABBED, Status.CONFIRMED, Status.SIGNED_IN, Status.SIGNED_OUT)
    ENDED = (Status.COMPLETED, Status.DECLINED, Status.CANCELLED, Status.NO_SHOW)

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="assignments"
    )
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="assignments")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.GRABBED, db_index=True
    )
    reservation_transfer_id = models.UUIDField(null=True, blank=True)
    grabbed_at = models.DateTimeField(_("grabbed at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    signed_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    signed_out_at = models.DateTimeField(_("signed out at"), null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(_("actual minutes"), null=True, blank=True)
    confirmed_minutes = models.PositiveIntegerField(_("confirmed minutes"), null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_reason = models.TextField(_("reason"), blank=True)
    missing_sign_out_at = models.DateTimeField(_("flagged: no sign-out"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["request", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "volunteer"], name="assignment_unique_volunteer"
            ),
            # A place has at most one live volunteer: the backstop behind the claim.
            models.UniqueConstraint(
                fields=["place"],
                condition=models.Q(status__in=["grabbed", "confirmed", "signed_in", "signed_out"]),
                name="assignment_one_live_per_place",
            ),
        ]
        indexes = [
            # The ledger's hold names the assignment it reserves for.
            models.Index(fields=["reservation_transfer_id"], name="assignment_by_hold"),
            # /orders/: a volunteer's live services, and the last ones grabbed.
            models.Index(fields=["volunteer", "status"], name="assignment_volunteer_status"),
            models.Index(fields=["volunteer", "id"], name="assignment_volunteer_recent"),
            # Reports: services completed in a period.
            models.Index(
                fields=["completed_at"],
                condition=models.Q(status="completed"),
                name="assignment_completed_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.request}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class SignRecord(models.Model):
    """A sign-in or sign-out, with where it happened when the browser told us."""

    class Kind(models.TextChoices):
        IN = "in", _("Sign in")
        OUT = "out", _("Sign out")

    class Method(models.TextChoices):
        CODE = "code", _("Short code")
        QR = "qr", _("QR code")
        STAFF = "staff", _("By staff")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="signs")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.CODE)
    at = models.DateTimeField(auto_now_add=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("sign-in/out record")
        verbose_name_plural = _("sign-in/out records")
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "kind"], name="sign_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.assignment} · {self.get_kind_display()}"


def signature_path(instance: "Evaluation", filename: str) -> str:
    return f"orders/signatures/{instance.assignment_id}-{secrets.token_hex(8)}.png"


class Evaluation(models.Model):
    """The elder's (or family's) rating of one volunteer's service (评论、签名)."""

    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="evaluation"
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    signature = models.ImageField(_("signature"), upload_to=signature_path, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        # Reports: ratings given in a period.
        indexes = [models.Index(fields=["created_at"], name="evaluation_created_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="evaluation_rating_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment} · {self.rating}"


class OrderEvent(models.Model):
    """Who did what to a need, and for whom (proxy actions for elders without a phone)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "pk"]
        # Reports: rejections (and other actions) in a period.
        indexes = [models.Index(fields=["action", "at"], name="orderevent_action_at")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"


# Proxies give the two approval queues their own admin pages (后台订单审核列表).
class StreetQueueRequest(ServiceRequest):
    class Meta:
        proxy = True
        verbose_name = _("need waiting for the street branch")
        verbose_name_plural = _("street approval queue")


class HeadOfficeQueueRequest(ServiceRequest):
    class Meta:
        proxy = True
        verbose_name = _("need waiting for head office")
        verbose_name_plural = _("head-office approval queue")
