"""The server-drawn bar charts: scale and ticks, all-zero data, long Chinese labels, and the SVG
the template writes (accessible, scaling to a phone's width)."""

from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from committee.charts import (
    LABEL_WIDTH,
    WIDTH,
    bar_chart,
    fit_text,
    nice_step,
    number_text,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"


def rendered(chart) -> ElementTree.Element:
    """The chart as the page writes it, parsed (which also proves it is well-formed XML)."""
    html = render_to_string("committee/dashboard/_bar_chart.html", {"chart": chart})
    figure = ElementTree.fromstring(html.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))  # noqa: S314 (our own template)
    # Captioned for the eye with the title that the drawing gives screen readers.
    assert figure.find("figcaption").text == chart.title
    return figure.find(f"{SVG}svg")


class TestScale:
    @pytest.mark.parametrize(
        ("largest", "whole", "step"),
        [
            (3, True, 1),
            (8, True, 2),
            (10, True, 5),
            (10, False, 2.5),
            (95, True, 25),
            (1234, True, 500),
            (0.5, False, 0.2),
        ],
    )
    def test_steps_are_round_and_at_most_four(self, largest, whole, step):
        assert nice_step(largest, whole=whole) == step
        assert largest / step <= 4

    def test_counts_never_step_by_fractions(self):
        # Given counts no larger than 2, a fractional step would label the scale 0.5, 1.5
        assert nice_step(2, whole=True) == 1
        assert nice_step(2, whole=False) == 0.5

    def test_bars_are_proportional_to_the_values_and_the_largest_fits(self):
        chart = bar_chart(chart_id="c", title="t", rows=[("甲", 2), ("乙", 8), ("丙", 0)])
        widths = [bar.width for bar in chart.bars]
        assert widths[2] == 0
        assert widths[1] == pytest.approx(4 * widths[0], abs=0.2)
        # The scale reaches 8 exactly (steps of 2): the largest bar is the whole plot.
        assert [tick.text for tick in chart.ticks] == ["0", "2", "4", "6", "8"]
        assert chart.ticks[-1].x == pytest.approx(chart.plot_left + widths[1], abs=0.2)
        # And its number still fits inside the drawing.
        assert chart.bars[1].value_x + text_width(chart.bars[1].value_text) <= WIDTH

    def test_hours_keep_their_quarters(self):
        chart = bar_chart(
            chart_id="c", title="t", rows=[("一月", Decimal("1.25")), ("二月", Decimal("0.5"))], whole=False
        )
        assert [bar.value_text for bar in chart.bars] == ["1.25", "0.5"]
        assert number_text(Decimal("12.00")) == "12"
        assert number_text(12345) == "12,345"


class TestHardCases:
    def test_all_zero_draws_empty_bars_says_so_and_divides_by_nothing(self):
        chart = bar_chart(chart_id="c", title="t", rows=[("待认领", 0), ("已确认", 0)])
        assert chart.empty
        assert [bar.width for bar in chart.bars] == [0, 0]
        # Only the zero on the scale: a 1 would suggest a reading there is not.
        assert [tick.text for tick in chart.ticks] == ["0"]
        with translation.override("en"):
            svg = rendered(bar_chart(chart_id="c", title="t", rows=[("a", 0)]))
        notes = [text.text for text in svg.iter(f"{SVG}text") if text.get("class") == "empty-note"]
        assert notes == ["Nothing to show for this period."]

    def test_no_rows_at_all(self):
        chart = bar_chart(chart_id="c", title="t", rows=[])
        assert chart.empty and chart.bars == ()

    def test_a_long_chinese_label_is_cut_to_its_column_and_kept_whole_in_the_tooltip(self):
        label = "社区老年人助餐送餐上门及陪同就医服务"
        chart = bar_chart(chart_id="c", title="t", rows=[(label, 3)])
        bar = chart.bars[0]
        assert bar.short_label.endswith("…") and label.startswith(bar.short_label[:-1])
        assert text_width(bar.short_label) <= LABEL_WIDTH
        svg = rendered(chart)
        assert svg.find(f"{SVG}g/{SVG}title").text == f"{label}: 3"

    def test_short_and_latin_labels_are_left_alone(self):
        assert fit_text("Open", LABEL_WIDTH) == "Open"
        assert fit_text("已确认", LABEL_WIDTH) == "已确认"
        # Latin letters are narrower than Chinese characters: more of them fit.
        assert len(fit_text("x" * 40, LABEL_WIDTH)) > len(fit_text("字" * 40, LABEL_WIDTH))

    def test_a_negative_month_is_an_empty_bar_with_its_number(self):
        chart = bar_chart(
            chart_id="c", title="t", rows=[("三月", Decimal("-1.5")), ("四月", Decimal("3"))], whole=False
        )
        assert chart.bars[0].width == 0
        assert chart.bars[0].value_text == "-1.5"


class TestSvg:
    def test_accessible_and_scaling_to_the_page(self):
        with translation.override("en"):
            chart = bar_chart(chart_id="chart-x", title="Requests by status", rows=[("Open", 2), ("Confirmed", 5)])
        svg = rendered(chart)
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == "chart-x-title chart-x-desc"
        assert svg.find(f"{SVG}title").text == "Requests by status"
        assert svg.find(f"{SVG}desc").text == "Largest: Confirmed, 5. The table below gives every number."
        # A viewBox and a relative width: it shrinks to a 360 px screen instead of overflowing.
        assert svg.get("viewBox") == f"0 0 {WIDTH} {chart.height}"
        assert svg.get("width") == "100%"
        assert len(svg.findall(f"{SVG}g")) == 2

    def test_coordinates_are_written_with_a_decimal_point_in_every_language(self):
        chart = bar_chart(chart_id="c", title="t", rows=[("甲", 1), ("乙", 3)])
        for language in ("zh-hans", "en"):
            with translation.override(language):
                svg = rendered(chart)
            widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
            assert widths == [bar.width for bar in chart.bars]
