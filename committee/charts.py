"""Bar charts drawn on the server as SVG: no script, so they work on a government intranet, in
print and with scripts off, and a screen reader hears a title and a summary (the page puts the
table of the same numbers right below each chart).

Every position is computed here, in the drawing's own units (its viewBox); the template
`committee/dashboard/_bar_chart.html` only writes them out, in a figure captioned with the
chart's title. Bars are horizontal, one row each:
a long Chinese label keeps its own line instead of being turned sideways under a column, and
the chart scales down to a 360 px phone while staying readable (the page scales the drawing
to its width, up to a maximum set in dashboard.css).
"""

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

Number = int | float | Decimal

WIDTH = 360
FONT_SIZE = 13
ROW_HEIGHT = 28
BAR_HEIGHT = 18
# About nine Chinese characters; longer labels are cut with "…" (the table has them whole).
LABEL_WIDTH = 122
GAP = 6
TOP = 6
# Below the bars: the scale's numbers.
AXIS_HEIGHT = 22
# At most this many steps on the scale, so that its numbers never run into each other.
MAX_TICKS = 4
ELLIPSIS = "…"


@dataclass(frozen=True)
class Bar:
    label: str
    # The label cut to fit beside the bar.
    short_label: str
    value: Number
    value_text: str
    y: float
    width: float
    # The baseline of the row's label and value.
    text_y: float
    value_x: float


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    # Read by screen readers after the title: the largest bar, and where the numbers are.
    summary: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: float
    label_x: float
    plot_left: float
    plot_top: float
    plot_bottom: float
    tick_y: float
    bar_height: int
    font_size: int
    # Every value is zero (or there are no rows): the drawing says so in words.
    empty: bool
    empty_text: str
    empty_y: float


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """The width a line of text takes, near enough to lay it out: Chinese characters (and other
    wide ones) are about one em, Latin letters and digits a little over half."""
    ems = sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6 for char in text)
    return ems * font_size


def fit_text(text: str, width: float, font_size: float = FONT_SIZE) -> str:
    """The text, cut with an ellipsis where it would be wider than `width`."""
    if text_width(text, font_size) <= width:
        return text
    room = width - text_width(ELLIPSIS, font_size)
    kept = ""
    for char in text:
        if text_width(kept + char, font_size) > room:
            break
        kept += char
    return kept.rstrip() + ELLIPSIS


def number_text(value: Number) -> str:
    """Whole numbers with thousands grouped; others with up to two decimals (hours in quarters)."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{float(value):,.2f}".rstrip("0").rstrip(".")


def nice_step(largest: float, *, whole: bool, max_ticks: int = MAX_TICKS) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten, so that `max_ticks` steps reach `largest`.
    Counts step by whole numbers."""
    if largest <= 0:
        return 1.0
    rough = largest / max_ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= rough and (not whole or step == int(step)):
            return float(step)
    return 10.0 * magnitude


def _round(number: float) -> float:
    return round(number, 1)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Number]],
    whole: bool = True,
    value_text: Callable[[Number], str] = number_text,
    empty_text: str | None = None,
) -> BarChart:
    """One horizontal bar per (label, value) row, in the order given, from zero.

    `whole`: the values are counts, so the scale steps by whole numbers. A negative value (a
    month of corrections) is drawn as an empty bar with its number beside it: the scale starts
    at zero, and the number, not the bar, carries the value.
    """
    values = [value for _label, value in rows]
    texts = [value_text(value) for value in values]
    largest = float(max([0, *values]))
    step = nice_step(largest, whole=whole)
    top_of_scale = step * max(1, math.ceil(largest / step))
    value_room = max([text_width(text) for text in texts] + [text_width("0")]) + GAP
    plot_left = LABEL_WIDTH + GAP
    plot_width = WIDTH - plot_left - value_room
    plot_bottom = TOP + ROW_HEIGHT * len(rows)
    empty = largest == 0

    bars = []
    for index, ((label, value), text) in enumerate(zip(rows, texts, strict=True)):
        row_top = TOP + index * ROW_HEIGHT
        width = plot_width * max(float(value), 0) / top_of_scale
        bars.append(
            Bar(
                label=label,
                short_label=fit_text(label, LABEL_WIDTH),
                value=value,
                value_text=text,
                y=_round(row_top + (ROW_HEIGHT - BAR_HEIGHT) / 2),
                width=_round(width),
                text_y=_round(row_top + ROW_HEIGHT / 2 + FONT_SIZE * 0.35),
                value_x=_round(plot_left + width + 4),
            )
        )
    # An empty chart shows only its zero: a scale up to 1 would suggest a reading there is not.
    tick_count = 0 if empty else round(top_of_scale / step)
    ticks = tuple(
        Tick(x=_round(plot_left + plot_width * index / max(tick_count, 1)), text=value_text(step * index))
        for index in range(tick_count + 1)
    )
    height = plot_bottom + AXIS_HEIGHT + (ROW_HEIGHT if empty else 0)
    return BarChart(
        chart_id=chart_id,
        title=title,
        summary=_summary(rows, texts, empty),
        bars=tuple(bars),
        ticks=ticks,
        width=WIDTH,
        height=_round(height),
        label_x=LABEL_WIDTH,
        plot_left=plot_left,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        tick_y=_round(plot_bottom + AXIS_HEIGHT - 6),
        bar_height=BAR_HEIGHT,
        font_size=FONT_SIZE,
        empty=empty,
        empty_text=empty_text or _("Nothing to show for this period."),
        empty_y=_round(plot_bottom + AXIS_HEIGHT + ROW_HEIGHT / 2 + FONT_SIZE * 0.35),
    )


def _summary(rows: Sequence[tuple[str, Number]], texts: list[str], empty: bool) -> str:
    if empty:
        return _("Every value is zero. The table below gives each one.")
    index = max(range(len(rows)), key=lambda at: rows[at][1])
    return _("Largest: %(label)s, %(value)s. The table below gives every number.") % {
        "label": rows[index][0],
        "value": texts[index],
    }
