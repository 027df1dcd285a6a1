"""What each NCIP message does, through the desk's own services.

Every handler runs inside the responder's unit of work, so the services it calls (each of
which opens "its" transaction) join one transaction: a message is applied whole or not at
all. Refusals of the services become NCIP Problems naming the element and value at fault.
Each message has its handler in a module of its own; this one hands a message to it.
"""

from __future__ import annotations

from app.ncip import messages as m
from app.ncip.accept_item import accept_item
from app.ncip.circulation import check_in_item, check_out_item
from app.ncip.handling import Context, Result
from app.ncip.lending_requests import (
    cancel_request_item,
    delete_item,
    renew_item,
    request_item,
)
from app.ncip.lookup_user import lookup_user

__all__ = ["Context", "Result", "dispatch"]


def dispatch(ctx: Context, request: m.NcipRequest) -> Result:
    body = request.body
    if isinstance(body, m.LookupUser):
        return lookup_user(ctx, body)
    if isinstance(body, m.AcceptItem):
        return accept_item(ctx, body)
    if isinstance(body, m.CheckOutItem):
        return check_out_item(ctx, body)
    if isinstance(body, m.CheckInItem):
        return check_in_item(ctx, body)
    if isinstance(body, m.RequestItem):
        return request_item(ctx, body)
    if isinstance(body, m.CancelRequestItem):
        return cancel_request_item(ctx, body)
    if isinstance(body, m.RenewItem):
        return renew_item(ctx, body)
    return delete_item(ctx, body)
