"""The queue of the committee and grid workers: escalated requests, disputes, follow-ups due,
and the figures of the requests they manage."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from neighbors.permissions import staff_communities

from ..selectors.measures import RequestMeasures
from ..selectors.queue import request_queue as queue_of

NO_FIGURE = "—"


@dataclass(frozen=True)
class FigureRow:
    label: str
    recent: str
    all_time: str


def _one_decimal(number: float) -> str:
    # number_format cuts the digits beyond the ones asked for: round first.
    return number_format(round(number, 1), 1)


def duration_text(duration: timedelta | None) -> str:
    """Minutes under an hour, hours under two days, days beyond."""
    if duration is None:
        return NO_FIGURE
    minutes = duration.total_seconds() / 60
    if minutes < 60:
        whole = round(minutes)
        return ngettext("%(count)d minute", "%(count)d minutes", whole) % {"count": whole}
    if minutes < 48 * 60:
        return _("%(hours)s hours") % {"hours": _one_decimal(minutes / 60)}
    return _("%(days)s days") % {"days": _one_decimal(minutes / (24 * 60))}


def share_text(part: int, whole: int) -> str:
    if not whole:
        return NO_FIGURE
    return _("%(percent)d%% (%(part)d of %(whole)d)") % {
        "percent": round(100 * part / whole),
        "part": part,
        "whole": whole,
    }


def mean_text(mean: float | None, count: int) -> str:
    if mean is None:
        return NO_FIGURE
    return ngettext("%(mean)s / 5 (%(count)d answer)", "%(mean)s / 5 (%(count)d answers)", count) % {
        "mean": _one_decimal(mean),
        "count": count,
    }


def median_text(duration: timedelta | None, count: int) -> str:
    """A median with the number of requests it is taken over."""
    if duration is None:
        return NO_FIGURE
    return ngettext("%(duration)s (over %(count)d request)", "%(duration)s (over %(count)d requests)", count) % {
        "duration": duration_text(duration),
        "count": count,
    }


def _figures(measures: RequestMeasures) -> list[str]:
    return [
        str(measures.total),
        median_text(measures.time_to_first_claim, measures.claimed),
        median_text(measures.time_to_resolution, measures.confirmed),
        share_text(measures.confirmed, measures.settled),
        mean_text(measures.rating_mean, measures.rating_count),
        mean_text(measures.follow_up_mean, measures.follow_up_count),
        share_text(measures.dispatched_first, measures.claimed),
        share_text(measures.confirmed_in_grid, measures.confirmed),
    ]


def figure_rows(recent: RequestMeasures, all_time: RequestMeasures) -> list[FigureRow]:
    labels = [
        _("Requests posted"),
        _("Median time to the first offer of help"),
        _("Median time from posting to confirmation"),
        _("Resolution rate (confirmed of confirmed, closed and expired)"),
        _("Poster's rating"),
        _("Satisfaction at follow-up (回访)"),
        _("First offer from a talent dispatched or invited"),
        _("Confirmed without escalation (resolved within the grid)"),
    ]
    return [
        FigureRow(label=label, recent=recent_text, all_time=all_text)
        for label, recent_text, all_text in zip(labels, _figures(recent), _figures(all_time), strict=True)
    ]


def status_rows(recent: RequestMeasures, all_time: RequestMeasures) -> list[FigureRow]:
    return [
        FigureRow(label=label, recent=str(recent.by_status[status]), all_time=str(count))
        for status, label, count in all_time.status_rows
    ]


def category_rows(recent: RequestMeasures, all_time: RequestMeasures) -> list[FigureRow]:
    recent_counts = {row.category.pk: row.count for row in recent.by_category}
    return [
        FigureRow(label=str(row.category), recent=str(recent_counts.get(row.category.pk, 0)), all_time=str(row.count))
        for row in all_time.by_category
    ]


@login_required
def request_queue(request: HttpRequest) -> HttpResponse:
    if not staff_communities(request.user).exists():
        # The page itself, not an object: a plain 403 that says who the queue is for.
        return render(request, "aid_posts/queue.html", {"denied": True}, status=403)
    queue = queue_of(request.user)
    return render(
        request,
        "aid_posts/queue.html",
        {
            "queue": queue,
            "figures": figure_rows(queue.measures_recent, queue.measures_all),
            "statuses": status_rows(queue.measures_recent, queue.measures_all),
            "categories": category_rows(queue.measures_recent, queue.measures_all),
        },
    )
