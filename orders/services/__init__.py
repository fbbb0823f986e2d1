"""Every state change of a service need (ARCHITECTURE.md, "Orders", "Money flow of an order").

Locks follow the one order of docs/architecture.md ("Lock order") for the whole
transaction: people, then the need, then its assignments, then every ledger account at once.
"""

from orders.services.assignments import (
    cancel_assignment,
    confirm_assignment,
    decline_assignment,
    grab_place,
    grab_refusal,
    sign_in,
    sign_out,
)
from orders.services.closing import (
    CreditGapError,
    cancel_request,
    complete_assignment,
    evaluate_assignment,
)
from orders.services.common import OrderError, hours_text, transfer_id
from orders.services.posting import (
    approve_by_head_office,
    approve_by_street,
    post_request,
    reject_request,
    submit_request,
    update_draft,
)
from orders.services.reminders import remind_services
from orders.services.scheduled import expire_requests, flag_missing_sign_outs, mark_no_shows
from orders.services.self_care import request_care_for_self

__all__ = [
    "CreditGapError",
    "OrderError",
    "approve_by_head_office",
    "approve_by_street",
    "cancel_assignment",
    "cancel_request",
    "complete_assignment",
    "confirm_assignment",
    "decline_assignment",
    "evaluate_assignment",
    "expire_requests",
    "flag_missing_sign_outs",
    "grab_place",
    "grab_refusal",
    "hours_text",
    "mark_no_shows",
    "post_request",
    "reject_request",
    "remind_services",
    "request_care_for_self",
    "sign_in",
    "sign_out",
    "submit_request",
    "update_draft",
    "transfer_id",
]
