from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Member, User
from branches.models import ServiceBase, StaffRole
from orders.closing_reads import default_credit, duration_text
from orders.models import EARLY_LEVEL_CHOICES, ServiceCategory, ServiceRequest
from timebank.forms import Form, column_max
from timebank.policy import MINUTES_PER_HOUR, get_policy


def start_too_far_message() -> str:
    days = get_policy().need_horizon_days
    return _("A need may start at most %(days)s days from now.") % {"days": days}


class CategoryField(forms.ModelChoiceField):
    """Offers the categories the policy allows. A housekeeping one posted anyway (a form
    opened before the policy changed) is refused with the reason, as the service would."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            refused = None
            if str(value).isascii() and str(value).isdigit():
                refused = ServiceCategory.objects.filter(pk=value, is_housekeeping=True).first()
            if refused is None:
                raise
            raise ValidationError(
                _(
                    "“%(name)s” is housekeeping. The time bank covers non-professional, "
                    "non-housekeeping care (no cleaning, cooking or laundry): please choose "
                    "another category."
                )
                % {"name": refused.name},
                code="housekeeping",
            ) from None


class NeedForm(Form):
    """Post a need. Which fields show depends on who posts: base staff, advisor or elder."""

    submission_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    base = forms.ModelChoiceField(label=_("Service base"), queryset=ServiceBase.objects.none())
    recipient = forms.ModelChoiceField(label=_("Elder"), queryset=User.objects.none())
    category = CategoryField(
        label=_("Category"), queryset=ServiceCategory.objects.filter(active=True)
    )
    title = forms.CharField(label=_("Title"), max_length=80)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    requirements = forms.CharField(
        label=_("Requirements for the volunteer"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    address = forms.CharField(
        label=_("Place"), max_length=255, required=False, help_text=_("Blank: the base's address.")
    )
    # For a resident of the base who is not a registered elder (no phone account).
    recipient_name = forms.CharField(
        label=_("Recipient's name if not registered (optional)"),
        max_length=64,
        required=False,
        help_text=_("Only when the resident is not in the list of registered elders above."),
    )
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    units = forms.IntegerField(label=_("Agreed duration (hours)"), min_value=1, max_value=24)
    places = forms.IntegerField(label=_("Volunteers wanted"), min_value=1, max_value=100, initial=1)
    auto_confirm = forms.BooleanField(label=_("Confirm volunteers automatically"), required=False)
    early_min_level = forms.TypedChoiceField(
        label=_("For its first hour, only volunteers of this honour level may grab it"),
        choices=EARLY_LEVEL_CHOICES,
        coerce=int,
        empty_value=0,
        required=False,
        initial=0,
        help_text=_("Off by default: every volunteer may grab at once."),
    )

    def __init__(self, *args, user, editing: ServiceRequest | None = None, **kwargs):
        if editing is not None:
            local = timezone.localtime(editing.starts_at)
            kwargs["initial"] = {
                "category": editing.category_id,
                "title": editing.title,
                "description": editing.description,
                "requirements": editing.requirements,
                "address": editing.address,
                "recipient_name": editing.recipient_name,
                "day": local.date(),
                "start": local.time().replace(second=0, microsecond=0),
                "units": editing.duration_minutes // get_policy().credit_unit_minutes,
                "places": editing.places,
                "auto_confirm": editing.auto_confirm,
                "early_min_level": editing.early_min_level,
            }
        kwargs.setdefault("initial", {}).setdefault("submission_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.user = user
        self.editing = editing
        if not get_policy().housekeeping_allowed:
            self.fields["category"].queryset = self.fields["category"].queryset.filter(
                is_housekeeping=False
            )
        bases = ServiceBase.objects.filter(
            staff_roles__user=user, staff_roles__role=StaffRole.Role.BASE_STAFF
        ).distinct()
        if user.is_superuser:
            bases = ServiceBase.objects.filter(status=ServiceBase.Status.CERTIFIED)
        advisor_streets = StaffRole.objects.filter(user=user, role=StaffRole.Role.ADVISOR).values(
            "branch_id"
        )
        elders = User.objects.filter(
            member__capacity__in=Member.RECEIVING,
            member__status=Member.Status.VERIFIED,
            member__street_id__in=advisor_streets,
        )
        # An advisor is an advisor even before any elder of the street is registered.
        is_advisor = advisor_streets.exists()
        self.poster = "base" if bases.exists() else ("advisor" if is_advisor else "elder")
        unit = get_policy().credit_unit_minutes
        if unit != MINUTES_PER_HOUR:
            self.fields["units"].label = _("Agreed duration (units of %(n)s minutes)") % {"n": unit}
        if self.poster == "base":
            self.fields["base"].queryset = bases
            # A resident who is a registered elder can confirm, rate and sign on the phone.
            self.fields["recipient"].queryset = User.objects.filter(
                member__capacity__in=Member.RECEIVING,
                member__status=Member.Status.VERIFIED,
                member__street__in=bases.values("street"),
            ).order_by("full_name")
            self.fields["recipient"].required = False
            self.fields["recipient"].label = _("Resident (a registered elder)")
            if bases.count() == 1:
                self.fields["base"].initial = bases.first()
        else:
            del self.fields["base"]
            del self.fields["recipient_name"]
            self.fields["address"].required = True
            self.fields["address"].help_text = ""
            if self.poster == "advisor":
                self.fields["recipient"].queryset = elders
                if not elders.exists():
                    self.fields["recipient"].help_text = _(
                        "No verified elder lives in your street yet: register the elder first."
                    )
            else:
                del self.fields["recipient"]

        if editing is not None:  # where, for whom and who pays stay as posted
            for name in ("base", "recipient"):
                self.fields.pop(name, None)
            if editing.base_id is None:
                self.fields.pop("recipient_name", None)
            else:
                self.fields["recipient_name"].help_text = ""

    def clean_day(self):
        # By the calendar first: a hostile date never reaches datetime arithmetic.
        day, today = self.cleaned_data["day"], timezone.localdate()
        if day < today:
            raise ValidationError(_("The start must be in the future."), code="past")
        if day > today + timedelta(days=get_policy().need_horizon_days):
            raise ValidationError(start_too_far_message(), code="too_far")
        return day

    def clean(self):
        data = super().clean()
        if data.get("day") and data.get("start"):
            starts_at = self.starts_at()
            if starts_at <= timezone.now():
                self.add_error("start", _("The start must be in the future."))
            elif starts_at > timezone.now() + timedelta(days=get_policy().need_horizon_days):
                self.add_error("day", start_too_far_message())
        return data

    def starts_at(self) -> datetime:
        data = self.cleaned_data
        naive = datetime.combine(data["day"], data["start"])
        return timezone.make_aware(naive, timezone.get_current_timezone())

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "category": data["category"],
            "title": data["title"],
            "description": data["description"],
            "requirements": data["requirements"],
            "address": data["address"],
            "starts_at": self.starts_at(),
            "duration_minutes": data["units"] * get_policy().credit_unit_minutes,
            "places": data["places"],
            "auto_confirm": data["auto_confirm"],
            "early_min_level": data["early_min_level"],
        }
        if self.editing is not None:
            kwargs["recipient_name"] = data.get("recipient_name", "")
            return kwargs
        kwargs["submission_id"] = data.get("submission_id")
        if self.poster == "base":
            kwargs.update(
                base=data["base"],
                recipient=data.get("recipient"),
                recipient_name=data["recipient_name"],
            )
        elif self.poster == "advisor":
            kwargs.update(recipient=data["recipient"])
        else:
            kwargs.update(recipient=self.user)
        return kwargs


class BrowserHintMixin:
    """A value the browser reports, not the person: one that does not parse, is not finite or
    does not fit the column is dropped (None), never an error they could not correct."""

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError:
            return None


class CoordinateField(BrowserHintMixin, forms.DecimalField):
    """Degrees, rounded to the six places of the columns (SignRecord, ServiceRequest)."""

    def __init__(self, *, limit: int):
        super().__init__(
            max_digits=9,
            decimal_places=6,
            min_value=-limit,
            max_value=limit,
            required=False,
            widget=forms.HiddenInput,
        )

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.is_finite() and abs(value) <= self.max_value:
            value = value.quantize(Decimal("0.000001"))
        return value


class AccuracyField(BrowserHintMixin, forms.IntegerField):
    def __init__(self):
        super().__init__(
            min_value=0,
            max_value=column_max("PositiveIntegerField"),  # SignRecord.accuracy_m
            required=False,
            widget=forms.HiddenInput,
        )


class LocationFields(Form):
    """Filled by the browser when the volunteer allows it; optional everywhere."""

    latitude = CoordinateField(limit=90)
    longitude = CoordinateField(limit=180)
    accuracy = AccuracyField()

    def location(self) -> dict:
        data = self.cleaned_data
        return {
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
            "accuracy": data.get("accuracy"),
        }


class SignInForm(LocationFields):
    code = forms.CharField(
        label=_("Sign-in code"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}
        ),
    )
    method = forms.CharField(required=False, widget=forms.HiddenInput)


class CompleteForm(Form):
    """The credited duration in whole credit units, up to the agreed one; offered first is the
    signed-in time rounded to a unit. A far one (``credit_gap_is_far``) needs the tick."""

    minutes = forms.TypedChoiceField(label=_("Duration to confirm"), coerce=int)
    gap_confirmed = forms.BooleanField(
        label=_(
            "I have checked: confirm this duration even though it differs from the time signed in"
        ),
        label_suffix="",
        required=False,
    )

    def __init__(self, *args, agreed: int, actual: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        unit = get_policy().credit_unit_minutes
        self.fields["minutes"].choices = [
            (minutes, duration_text(minutes)) for minutes in range(agreed, 0, -unit)
        ]
        self.fields["minutes"].initial = default_credit(actual=actual, agreed=agreed)


class EvaluationForm(Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    signature = forms.CharField(required=False, widget=forms.HiddenInput)


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        error_messages={"required": _("Please give a reason for the cancellation.")},
    )


class OptionalReasonForm(Form):
    """A volunteer's cancellation or a poster's decline: a reason helps, none is needed."""

    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class NeedFilterForm(Form):
    """The order hall's filters (GET). A value that does not parse is ignored, not an error:
    the hall still lists the needs, filtered by what did parse."""

    street = forms.IntegerField(required=False, min_value=1, max_value=column_max("BigAutoField"))
    category = forms.IntegerField(required=False, min_value=1, max_value=column_max("BigAutoField"))
    day = forms.DateField(required=False)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180)
    # Where the previous page ended (orders.hall): one that does not parse means the first.
    after = forms.CharField(required=False, max_length=64)

    def chosen(self) -> dict:
        """The filters that parsed (Django keeps only those in ``cleaned_data``)."""
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v is not None}

    def near(self) -> tuple[float, float] | None:
        chosen = self.chosen()
        if "lat" in chosen and "lng" in chosen:
            return chosen["lat"], chosen["lng"]
        return None
