"""``{% work_queues as queues %}``: the viewer's work queues (``reports.queues``)."""

from __future__ import annotations

from django import template

from reports.queues import Queue, queues_for

register = template.Library()


@register.simple_tag(takes_context=True)
def work_queues(context) -> list[Queue]:
    request = context.get("request")
    if request is None:
        return []
    return queues_for(request.user, request=request)
