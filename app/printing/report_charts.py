"""Report charts as ReportLab drawings (vectors): bars and lines, colour-blind-safe.

The palette is Okabe and Ito's, distinguishable with every common colour-vision
deficiency; lines also differ by marker. Every chart carries its title, its unit on the
value axis and the period it covers. The same drawing goes into the PDF and, as SVG, onto
the Reports screen.
"""

from __future__ import annotations

import re

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib.colors import Color, HexColor, black

from app.reports.figures import Chart, ChartKind

PALETTE: tuple[Color, ...] = tuple(
    HexColor(h) for h in ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
)
MARKERS = ("FilledCircle", "FilledSquare", "FilledTriangle", "FilledDiamond", "Circle", "Square")
FONT, BOLD = "Helvetica", "Helvetica-Bold"


def chart_drawing(chart: Chart, width: float = 500, height: float = 250) -> Drawing:
    """The chart, `width` x `height` points, ready for a PDF flowable or SVG."""
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 14, chart.title, fontName=BOLD, fontSize=11))
    drawing.add(
        String(
            0,
            height - 28,
            f"{chart.period} - values in {chart.unit}",
            fontName=FONT,
            fontSize=8,
            fillColor=HexColor("#444444"),
        )
    )
    legend_height = 14 * ((len(chart.series) + 1) // 2)
    plot_bottom = 36 + legend_height
    plot = _bars(chart) if chart.kind is ChartKind.BAR else _lines(chart)
    plot.x, plot.y = 44, plot_bottom
    plot.width, plot.height = width - 60, height - plot_bottom - 52
    plot.data = [list(values) or [0.0] for _, values in chart.series] or [[0.0]]
    categories = list(chart.categories) or [""]
    plot.categoryAxis.joinAxisMode = "bottom"  # months stay under the plot below zero
    plot.categoryAxis.categoryNames = categories
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = 7
    if len(categories) > 8:
        plot.categoryAxis.labels.angle = 45
        plot.categoryAxis.labels.boxAnchor = "ne"
    plot.valueAxis.labels.fontName = FONT
    plot.valueAxis.labels.fontSize = 7
    values = [v for _, vs in chart.series for v in vs if v is not None]
    plot.valueAxis.valueMin = min(0.0, *values, 0.0)
    if all(v == 0 for v in values):
        plot.valueAxis.valueMax = 1
    drawing.add(plot)
    drawing.add(String(4, plot_bottom + plot.height + 6, chart.unit, fontName=FONT, fontSize=7))
    drawing.add(_legend(chart, width))
    return drawing


def _bars(chart: Chart) -> VerticalBarChart:
    bars = VerticalBarChart()
    for index in range(len(chart.series)):
        bars.bars[index].fillColor = PALETTE[index % len(PALETTE)]
        bars.bars[index].strokeColor = None
    bars.groupSpacing = 6
    bars.barSpacing = 1
    return bars


def _lines(chart: Chart) -> HorizontalLineChart:
    lines = HorizontalLineChart()
    for index in range(len(chart.series)):
        colour = PALETTE[index % len(PALETTE)]
        lines.lines[index].strokeColor = colour
        lines.lines[index].strokeWidth = 1.5
        marker = makeMarker(MARKERS[index % len(MARKERS)])
        marker.fillColor = colour
        marker.strokeColor = colour
        marker.size = 5
        lines.lines[index].symbol = marker
    lines.joinedLines = 1
    return lines


def _legend(chart: Chart, width: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = 44, 10 + 14 * ((len(chart.series) + 1) // 2)
    legend.alignment = "right"
    legend.columnMaximum = 1 if len(chart.series) <= 2 else 2
    legend.fontName = FONT
    legend.fontSize = 8
    legend.dx = legend.dy = 8
    legend.deltax = (width - 60) / 2
    legend.strokeColor = black
    legend.strokeWidth = 0.25
    legend.colorNamePairs = [
        (PALETTE[i % len(PALETTE)], name) for i, (name, _) in enumerate(chart.series)
    ]
    return legend


def chart_svg(chart: Chart, width: float = 500, height: float = 250) -> bytes:
    """The chart as SVG bytes (the Reports screen shows it with Qt's SVG widget)."""
    from reportlab.graphics import renderSVG

    svg: str = renderSVG.drawToString(chart_drawing(chart, width, height))
    # Qt's SVG renderer (SVG Tiny) draws a clipPath's rectangle as a black box; the drawing
    # stays inside its bounds anyway, so the clip is left out.
    svg = re.sub(r"<clipPath.*?</clipPath>", "", svg, flags=re.DOTALL)
    svg = svg.replace(' style="clip-path: url(#clip)"', "")
    # ReportLab writes "fill: None"; SVG keywords are lower case, and Qt reads the capitalised
    # one as no value at all, so it fills every line chart's polyline in black.
    svg = svg.replace("fill: None", "fill: none").replace("stroke: None", "stroke: none")
    return svg.encode("utf-8")
