"""Time coins as a double-entry ledger, modelled on TigerBeetle's guarantees.

Amounts are integer minutes (1 coin = 60). Accounts cache their posted and pending totals;
transfers are immutable rows (a PostgreSQL trigger refuses UPDATE and DELETE), each moving
one amount from one debit account to one credit account. CHECK constraints on the cached
totals are the backstop behind the checks in ``ledger.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Account(models.Model):
    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        BASE = "base", _("Service base")
        SYSTEM = "system", _("System")

    class SystemRole(models.TextChoices):
        NONE = "", _("(none)")
        GRANT_POOL = "grant_pool", _("Grant pool (issuer)")
        ESCROW = "escrow", _("Order escrow")
        DONATION_POOL = "donation_pool", _("Donation pool")
        # Coins paid for goods and vouchers leave circulation here (never cashed out).
        EXCHANGE = "exchange", _("Exchange account")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coin_accounts",
    )
    base = models.ForeignKey(
        "branches.ServiceBase",
        verbose_name=_("service base"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coin_accounts",
    )
    system_role = models.CharField(
        _("system role"), max_length=32, choices=SystemRole.choices, blank=True, default=""
    )
    district = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coin_accounts",
    )
    posted_debits = models.BigIntegerField(_("posted debits"), default=0)
    posted_credits = models.BigIntegerField(_("posted credits"), default=0)
    pending_debits = models.BigIntegerField(_("pending debits"), default=0)
    pending_credits = models.BigIntegerField(_("pending credits"), default=0)
    max_balance = models.BigIntegerField(_("balance cap (minutes)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("coin account")
        verbose_name_plural = _("coin accounts")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(kind="member"), name="account_one_per_member"
            ),
            models.UniqueConstraint(
                fields=["base"], condition=Q(kind="base"), name="account_one_per_base"
            ),
            models.UniqueConstraint(
                fields=["district", "system_role"],
                condition=Q(kind="system"),
                name="account_one_system_role_per_district",
            ),
            models.CheckConstraint(
                condition=(Q(kind="member", user__isnull=False, base__isnull=True))
                | Q(kind="base", base__isnull=False, user__isnull=True)
                | Q(kind="system", user__isnull=True, base__isnull=True) & ~Q(system_role=""),
                name="account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(posted_debits__gte=0)
                & Q(posted_credits__gte=0)
                & Q(pending_debits__gte=0)
                & Q(pending_credits__gte=0),
                name="account_totals_not_negative",
            ),
            # No overdraft, counting pending debits. Only the issuer may go negative; the
            # escrow is bounded by the holds it rests on (next constraint).
            models.CheckConstraint(
                condition=Q(system_role__in=["grant_pool", "escrow"])
                | Q(posted_credits__gte=F("posted_debits") + F("pending_debits")),
                name="account_no_overdraft",
            ),
            # The escrow never promises volunteers more than payers hold in it.
            models.CheckConstraint(
                condition=~Q(system_role="escrow")
                | Q(
                    posted_credits__gte=F("posted_debits")
                    + F("pending_debits")
                    - F("pending_credits")
                ),
                name="account_escrow_covered_by_holds",
            ),
            # Balance plus pending credits never exceeds the cap.
            models.CheckConstraint(
                condition=Q(max_balance__isnull=True)
                | Q(
                    max_balance__gte=F("posted_credits") - F("posted_debits") + F("pending_credits")
                ),
                name="account_within_balance_cap",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.MEMBER:
            return str(_("Coins of %(owner)s") % {"owner": self.user})
        if self.kind == self.Kind.BASE:
            return str(_("Coins of %(owner)s") % {"owner": self.base})
        return f"{self.get_system_role_display()} · {self.district}"

    @property
    def owner_name(self) -> str:
        """Who holds the account, as shown on a statement."""
        if self.kind == self.Kind.MEMBER:
            return str(self.user)
        if self.kind == self.Kind.BASE:
            return str(self.base)
        return str(self.get_system_role_display())

    @property
    def balance(self) -> int:
        return self.posted_credits - self.posted_debits

    @property
    def available(self) -> int:
        return self.balance - self.pending_debits

    @property
    def is_overdraft_exempt(self) -> bool:
        """The issuer alone may go negative."""
        return self.system_role == self.SystemRole.GRANT_POOL

    @property
    def spendable(self) -> int:
        """What may still leave the account; the escrow may promise what payers hold in it."""
        if self.system_role == self.SystemRole.ESCROW:
            return self.available + self.pending_credits
        return self.available


class Transfer(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single-phase")
        PENDING = "pending", _("Pending (reservation)")
        POST = "post", _("Post of a pending transfer")
        VOID = "void", _("Void of a pending transfer")

    class Code(models.TextChoices):
        SERVICE = "service", _("Service")
        HOLD = "hold", _("Order hold")
        GRANT = "grant", _("Grant")
        GIFT = "gift", _("Gift")
        DONATION = "donation", _("Donation")
        EXCHANGE = "exchange", _("Exchange")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")

    # Supplied by the caller: the idempotency key.
    id = models.UUIDField(primary_key=True, editable=False)
    debit_account = models.ForeignKey(
        Account, verbose_name=_("debit account"), on_delete=models.PROTECT, related_name="+"
    )
    credit_account = models.ForeignKey(
        Account, verbose_name=_("credit account"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.BigIntegerField(_("amount (minutes)"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    pending = models.ForeignKey(
        "self",
        verbose_name=_("pending transfer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolutions",
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )
    code = models.CharField(_("code"), max_length=16, choices=Code.choices)
    service_date = models.DateField(_("service date"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at"]
        # A statement page is one scan per side that seeks to (created_at, id) and stops
        # after a page; the id settles lines of one instant (rows a bulk load dates alike).
        indexes = [
            models.Index(
                fields=["debit_account", "-created_at", "-id"], name="transfer_debit_line_idx"
            ),
            models.Index(
                fields=["credit_account", "-created_at", "-id"], name="transfer_credit_line_idx"
            ),
            # Coins received for the member's own care (spending.CARE_ONLY_CODES): a few rows
            # among an active volunteer's thousands of service credits, summed on every
            # coins page. Only those rows are indexed, so service transfers do not pay for it.
            models.Index(
                fields=["credit_account"],
                name="transfer_care_only_idx",
                condition=Q(code__in=["grant", "gift", "donation"]),
            ),
            # Staff filtering the transfers' list by a code: newest first, and counted. Holds
            # and services (nine rows in ten) are many enough that the created_at index finds
            # a page of them at once, and the grab's reservation does not pay for this one.
            models.Index(
                fields=["code", "-created_at", "-id"],
                name="transfer_code_idx",
                condition=~Q(code__in=["hold", "service"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")),
                name="transfer_accounts_differ",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["post", "void"], pending__isnull=False)
                | Q(kind__in=["single", "pending"], pending__isnull=True),
                name="transfer_pending_iff_resolution",
            ),
            # A pending transfer is resolved (posted or voided) at most once.
            models.UniqueConstraint(
                fields=["pending"],
                condition=Q(pending__isnull=False),
                name="transfer_one_resolution_per_pending",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="transfer_one_reversal_per_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} {self.amount} · {self.id}"


class DailyCredit(models.Model):
    """Service minutes credited (or reserved) to one member for one service date."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="daily_credits",
    )
    service_date = models.DateField(_("service date"))
    minutes = models.BigIntegerField(_("minutes"), default=0)
    # The daily cap in force when the row was created; NULL = no cap.
    limit = models.BigIntegerField(_("limit (minutes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily service credit")
        verbose_name_plural = _("daily service credits")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "service_date"], name="dailycredit_one_per_member_day"
            ),
            models.CheckConstraint(
                condition=Q(minutes__gte=0) & (Q(limit__isnull=True) | Q(minutes__lte=F("limit"))),
                name="dailycredit_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.service_date} · {self.minutes}"


class AuditRun(models.Model):
    """One run of the ledger audit and what it found."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    ok = models.BooleanField(_("clean"), default=False)
    findings = models.JSONField(_("findings"), default=list, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger audit")
        verbose_name_plural = _("ledger audits")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} · {'OK' if self.ok else 'FAILED'}"


class Gift(models.Model):
    """Coins a member gives to a confirmed relative or friend (转赠, CN §6.6, BJ).

    The id is the form's one-time submission id. Where the policy asks for approval, a
    pending transfer holds the coins until the giver's street approves (posted) or rejects
    (voided); otherwise the transfer posts at once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the street branch")
        POSTED = "posted", _("Given")
        REJECTED = "rejected", _("Not approved")

    id = models.UUIDField(primary_key=True, editable=False)
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("giver"),
        on_delete=models.PROTECT,
        related_name="gifts_given",
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("receiver"),
        on_delete=models.PROTECT,
        related_name="gifts_received",
    )
    relative = models.ForeignKey(
        "accounts.Relative",
        verbose_name=_("relation record"),
        on_delete=models.PROTECT,
        related_name="gifts",
    )
    relation = models.CharField(_("relation"), max_length=16)
    street = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("giver's street"),
        on_delete=models.PROTECT,
        related_name="gifts",
    )
    amount = models.BigIntegerField(_("amount (minutes)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    transfer_id = models.UUIDField(_("transfer"), editable=False)
    resolution_id = models.UUIDField(_("approval transfer"), null=True, blank=True, editable=False)
    review_reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("gift of coins")
        verbose_name_plural = _("gifts of coins")
        ordering = ["-created_at"]
        # Statement pages look up the gifts behind their lines by transfer; the streets'
        # queue lists them newest first.
        indexes = [
            models.Index(fields=["transfer_id"], name="gift_transfer_idx"),
            models.Index(fields=["resolution_id"], name="gift_resolution_idx"),
            models.Index(fields=["-created_at"], name="gift_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="gift_amount_positive"),
            models.CheckConstraint(condition=~Q(giver=F("receiver")), name="gift_not_to_oneself"),
        ]

    def __str__(self) -> str:
        return f"{self.giver} → {self.receiver} · {self.amount}"
