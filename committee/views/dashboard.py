"""The committee's dashboard (a community's, or a street's across its communities) and the
exports (一表通): CSV files a spreadsheet opens with the Chinese intact."""

import csv
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from urllib.parse import quote, urlencode

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aid_posts.views.common import add_service_error
from aid_posts.views.queue import FigureRow, figure_rows, status_rows
from neighbors.models import Community, Grid, Street
from neighbors.selectors import grids_in

from ..charts import BarChart, bar_chart, number_text
from ..forms.dashboard import DashboardFilterForm, ExportForm
from ..permissions import can_export, dashboard_communities, dashboard_streets, export_communities
from ..selectors.dashboard import (
    Dashboard,
    DashboardAccess,
    Period,
    community_access,
    dashboard_for,
    months_back,
    street_access,
)
from ..selectors.exports import DATASETS, Dataset, export_table
from ..services.exports import export_log

DENIED_TEMPLATE = "committee/dashboard/denied.html"
# Lines handed to the server at a time while a file streams.
BATCH_LINES = 500
# What a spreadsheet needs to read the file as UTF-8 (Excel guesses a legacy code page otherwise).
BOM = "\ufeff"


def _denied(request: HttpRequest, heading: str, sentence: str) -> HttpResponse:
    # The page itself, not an object: a plain 403 that says who it is for.
    return render(request, DENIED_TEMPLATE, {"heading": heading, "sentence": sentence}, status=403)


def _dashboard_denied(request: HttpRequest) -> HttpResponse:
    return _denied(
        request,
        _("Dashboard"),
        _(
            "The dashboard is for the community committee and grid workers, and each reads only the "
            "communities (and grid workers only the grids) they work for. Ask your committee if you need its figures."
        ),
    )


# --- The dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class MonthRow:
    label: str
    hours: str
    volunteers: int


def _month_label(month: date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def _presets(base_url: str, period: Period | None, grid: Grid | None) -> list[Preset]:
    today = timezone.localdate()
    choices = [
        (_("This month"), months_back(today, 1)),
        (_("Last 3 months"), months_back(today, 3)),
        (_("Last 12 months"), months_back(today, 12)),
    ]
    presets = []
    for label, choice in choices:
        query = {"start": choice.start.isoformat(), "end": choice.end.isoformat()}
        if grid is not None:
            query["grid"] = grid.pk
        presets.append(Preset(label=label, url=f"{base_url}?{urlencode(query)}", current=choice == period))
    return presets


def _category_rows(board: Dashboard) -> list[FigureRow]:
    """The period's categories, most requested first, then those only of the period before (the
    queue's category rows list only the second column's)."""
    current = {row.category.pk for row in board.measures.by_category}
    previous = {row.category.pk: row.count for row in board.previous.by_category}
    rows = [
        FigureRow(label=str(row.category), recent=str(row.count), all_time=str(previous.get(row.category.pk, 0)))
        for row in board.measures.by_category
    ]
    rows += [
        FigureRow(label=str(row.category), recent="0", all_time=str(row.count))
        for row in board.previous.by_category
        if row.category.pk not in current
    ]
    return rows


def _charts(board: Dashboard) -> dict[str, BarChart | None]:
    measures = board.measures
    months = [(_month_label(month.month), month) for month in board.months]
    return {
        "status": bar_chart(
            chart_id="chart-status",
            title=_("Requests posted in the period, by status now"),
            rows=[(label, count) for _status, label, count in measures.status_rows],
        ),
        "category": bar_chart(
            chart_id="chart-category",
            title=_("Requests posted in the period, by category"),
            rows=[(str(row.category), row.count) for row in measures.by_category],
        )
        if measures.by_category
        else None,
        "hours": bar_chart(
            chart_id="chart-hours",
            title=_("Volunteer hours by month"),
            rows=[(label, month.hours) for label, month in months],
            whole=False,
        ),
        "volunteers": bar_chart(
            chart_id="chart-volunteers",
            title=_("Active volunteers by month"),
            rows=[(label, month.volunteers) for label, month in months],
        ),
    }


def _dashboard_page(
    request: HttpRequest, access: DashboardAccess, *, heading: str, base_url: str, community: Community | None
) -> HttpResponse:
    form = DashboardFilterForm(request.GET, grids=access.grid_choices, limited=access.limit is not None)
    context = {
        "heading": heading,
        "access": access,
        "community": community,
        "communities": list(dashboard_communities(request.user).select_related("street")),
        "streets": list(dashboard_streets(request.user)),
        "can_export": community is not None and can_export(request.user, community),
    }
    if not form.is_valid():
        context.update(form=form, presets=_presets(base_url, None, None))
        return render(request, "committee/dashboard/dashboard.html", context, status=400)
    period, grid = form.cleaned_data["period"], form.cleaned_data["grid"]
    board = dashboard_for(request.user, access.scope(grid), period)
    shown = DashboardFilterForm(
        initial={"start": period.start, "end": period.end, "grid": grid.pk if grid else ""},
        grids=access.grid_choices,
        limited=access.limit is not None,
    )
    context.update(
        form=shown,
        presets=_presets(base_url, period, grid),
        board=board,
        grid=grid,
        previous=period.previous(),
        # The queue's rows and wording, with the period in the first column and the period
        # before in the second (the queue's "recent" and "all time").
        figures=figure_rows(board.measures, board.previous),
        statuses=status_rows(board.measures, board.previous),
        categories=_category_rows(board),
        months=[
            MonthRow(label=_month_label(month.month), hours=number_text(month.hours), volunteers=month.volunteers)
            for month in board.months
        ],
        total_hours=number_text(board.total_hours),
        charts=_charts(board),
    )
    return render(request, "committee/dashboard/dashboard.html", context)


def _community_dashboard(request: HttpRequest, community: Community | None) -> HttpResponse:
    access = community_access(request.user, community) if community is not None else None
    if access is None:
        return _dashboard_denied(request)
    return _dashboard_page(
        request,
        access,
        heading=_("Dashboard: %(community)s") % {"community": community.name},
        base_url=reverse("committee:community_dashboard", args=[community.pk]),
        community=community,
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The first community the viewer works for; the page links to the others."""
    return _community_dashboard(request, dashboard_communities(request.user).select_related("street").first())


@login_required
@require_GET
def community_dashboard(request: HttpRequest, community_id: int) -> HttpResponse:
    # Any community outside the viewer's, existing or not, gets the same answer.
    return _community_dashboard(request, Community.objects.select_related("street").filter(pk=community_id).first())


@login_required
@require_GET
def street_dashboard(request: HttpRequest, street_id: int) -> HttpResponse:
    street = Street.objects.filter(pk=street_id).first()
    access = street_access(request.user, street) if street is not None else None
    if access is None:
        return _denied(
            request,
            _("Street dashboard"),
            _(
                "A street's dashboard adds up the communities of the street where you are on the committee, "
                "and you are on the committee of none of this street's communities."
            ),
        )
    return _dashboard_page(
        request,
        access,
        heading=_("Dashboard: %(street)s") % {"street": street.name},
        base_url=reverse("committee:street_dashboard", args=[street.pk]),
        community=None,
    )


# --- Exports (一表通) ---------------------------------------------------------------------------


def _exports_denied(request: HttpRequest) -> HttpResponse:
    return _denied(
        request,
        _("Exports (一表通)"),
        _(
            "Exports are for committee members, of their own community only: a file that leaves the site "
            "holds people's names and hours. Grid workers read the figures of their grids on the dashboard."
        ),
    )


def _exports_page(
    request: HttpRequest,
    community: Community,
    grids: list[Grid],
    *,
    bound: ExportForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    cards = [
        (dataset, bound if bound is not None and bound.dataset is dataset else ExportForm(dataset=dataset, grids=grids))
        for dataset in DATASETS.values()
    ]
    return render(
        request,
        "committee/dashboard/exports.html",
        {
            "community": community,
            "communities": list(export_communities(request.user)),
            "cards": cards,
            "error": error,
        },
        status=status,
    )


def _export_community(request: HttpRequest, community_id: int | None) -> Community | None:
    communities = export_communities(request.user)
    if community_id is None:
        return communities.first()
    return communities.filter(pk=community_id).first()


@login_required
@require_GET
def exports(request: HttpRequest) -> HttpResponse:
    community = _export_community(request, None)
    if community is None:
        return _exports_denied(request)
    return _exports_page(request, community, list(grids_in(community)))


@login_required
@require_GET
def community_exports(request: HttpRequest, community_id: int) -> HttpResponse:
    community = _export_community(request, community_id)
    if community is None:
        return _exports_denied(request)
    return _exports_page(request, community, list(grids_in(community)))


class _Line:
    """What csv.writer writes to: each row comes back as its line of text."""

    def write(self, text: str) -> str:
        return text


def _csv_lines(table: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    for index, cells in enumerate(table):
        line = writer.writerow(cells)
        yield BOM + line if index == 0 else line


def _batches(lines: Iterator[str]) -> Iterator[str]:
    while batch := "".join(islice(lines, BATCH_LINES)):
        yield batch


async def _batches_async(lines: Iterator[str]) -> AsyncIterator[str]:
    # On the view's own thread (thread_sensitive): the rows come from a database cursor that
    # belongs to that thread's connection.
    take = sync_to_async(lambda: "".join(islice(lines, BATCH_LINES)), thread_sensitive=True)
    while batch := await take():
        yield batch


def _attachment(dataset: Dataset, community: Community, period: Period) -> str:
    """The file's name: in Chinese for the browsers that read RFC 5987's `filename*` (all current
    ones), with the community's number instead of its name for those that do not."""
    dates = f"{period.start.isoformat()}-{period.end.isoformat()}"
    name = re.sub(r"[^\w-]+", "-", community.name).strip("-") or f"community-{community.pk}"
    full = f"jinlin-{dataset.key}-{name}-{dates}.csv"
    plain = full if full.isascii() else f"jinlin-{dataset.key}-community-{community.pk}-{dates}.csv"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(full, safe='')}"


@login_required
@require_POST
def export_download(request: HttpRequest, community_id: int) -> HttpResponse:
    community = _export_community(request, community_id)
    if community is None:
        return _exports_denied(request)
    grids = list(grids_in(community))
    dataset = DATASETS.get(request.POST.get("dataset", ""))
    if dataset is None:
        return _exports_page(request, community, grids, error=_("Choose one of the datasets listed."), status=400)
    form = ExportForm(request.POST, dataset=dataset, grids=grids)
    if not form.is_valid():
        return _exports_page(request, community, grids, bound=form, status=400)
    period, grid = form.cleaned_data["period"], form.cleaned_data["grid"]
    columns = dataset.chosen(form.cleaned_data["columns"])
    rows = dataset.rows(community, period, grid)
    try:
        export_log(
            actor=request.user,
            community=community,
            dataset=dataset.key,
            columns=[column.key for column in columns],
            period=period,
            rows=rows.count(),
            grid=grid,
        )
    except PermissionDenied:
        return _exports_denied(request)
    except ValidationError as error:
        add_service_error(form, error)
        return _exports_page(request, community, grids, bound=form, status=400)
    lines = _csv_lines(export_table(columns, rows.iterator(chunk_size=BATCH_LINES)))
    # Under ASGI (how both profiles serve the site) Django would read a synchronous iterator whole
    # into memory before sending it: hand it an asynchronous one there.
    content = _batches_async(lines) if isinstance(request, ASGIRequest) else _batches(lines)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _attachment(dataset, community, period)
    response["Cache-Control"] = "no-store"
    return response
