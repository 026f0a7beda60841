"""Charts of the HTML report as inline SVG strings, drawn by matplotlib.

Why matplotlib: it draws a static SVG on the server (no display, no pyplot state), with every
glyph written as a path (``svg.fonttype = "path"``), so the page needs no JavaScript, no font and
no file from anywhere: it opens offline, and a strict Content-Security-Policy
(``default-src 'none'``) holds. Text is never parsed as math (``text.parse_math = False``): a
``$`` in a label is a dollar sign.

Every SVG goes through :func:`checked_svg` before it reaches a page: it must parse as XML, hold
no ``<script>``, ``<foreignObject>`` or ``on*`` attribute, and every ``href`` must point inside
the SVG itself (``#id``). Its ids get a per-chart prefix so that many SVGs inlined in one page
never share an id.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from datetime import date
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker as mticker
from matplotlib.figure import Figure

STYLE: Any = {  # matplotlib rcParams (typed as literal keys there)
    "svg.fonttype": "path",  # glyphs as paths: no font is needed where the page is opened
    "svg.hashsalt": "clickfarm-report",  # stable ids: the same data gives the same file
    "text.parse_math": False,  # "$10" is text, never mathtext
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def _plain_number(value: float, _position: object = None) -> str:
    """Tick labels as plain text (``1,000``, ``0.5``): the default log-axis labels are
    mathtext, which ``text.parse_math = False`` would print as written."""
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _log_axis(axis: Any) -> None:
    axis.set_major_locator(mticker.LogLocator(base=10))
    axis.set_major_formatter(mticker.FuncFormatter(_plain_number))
    axis.set_minor_formatter(mticker.NullFormatter())


class UnsafeSvg(ValueError):
    """An SVG that could run code or fetch something: never put on a page."""


def _figure(width: float, height: float) -> Figure:
    """A figure outside pyplot: no global figure list, no GUI backend (saving to SVG uses
    matplotlib's SVG canvas, like the Agg backend on a server)."""
    return Figure(figsize=(width, height))


def to_svg(figure: Figure, prefix: str) -> str:
    """The figure as an SVG element for inlining in HTML (no XML prolog), checked and with ids
    prefixed by ``prefix``."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # The RDF metadata names vocabularies by URL: nothing a reader needs, so nothing kept.
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    return checked_svg(_prefix_ids(text, prefix))


def _prefix_ids(svg: str, prefix: str) -> str:
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg

    def rename(match: re.Match[str]) -> str:
        name = match.group(2)
        return match.group(1) + (f"{prefix}-{name}" if name in ids else name) + match.group(3)

    svg = re.sub(r'(\bid=")([^"]+)(")', rename, svg)
    svg = re.sub(r'(href="#)([^"]+)(")', rename, svg)
    return re.sub(r"(url\(#)([^)]+)(\))", rename, svg)


def checked_svg(svg: str) -> str:
    """``svg`` unchanged when it is safe to inline (see the module docstring), else
    :class:`UnsafeSvg`."""
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise UnsafeSvg(f"not well-formed SVG: {error}") from None
    if root.tag != f"{SVG_NS}svg":
        raise UnsafeSvg(f"root element is {root.tag}, not svg")
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1].lower()
        if local in ("script", "foreignobject", "iframe", "image", "a"):
            raise UnsafeSvg(f"<{local}> element")
        for name, value in element.attrib.items():
            bare = name.rsplit("}", 1)[-1].lower()
            if bare.startswith("on"):
                raise UnsafeSvg(f"event attribute {bare}")
            if bare == "href" and not value.startswith("#"):
                raise UnsafeSvg(f"href to {value!r}")
            if "url(" in value and not re.fullmatch(r"url\(#[^)]+\)", value.strip()):
                raise UnsafeSvg(f"url() to outside in {bare}")
    if re.search(r"@import|url\((?!#)", svg):
        raise UnsafeSvg("style that loads something")
    return svg


# -- the charts -----------------------------------------------------------------------------

def band_chart(prefix: str, title: str, days: Sequence[date], median: Sequence[float],
               q1: Sequence[float], q3: Sequence[float], *, ylabel: str) -> str:
    """A median line over the interquartile band (one platform x metric over time)."""
    with matplotlib.rc_context(STYLE):
        figure = _figure(4.2, 2.4)
        axes = figure.add_subplot()
        xs = mdates.date2num(list(days))
        axes.fill_between(xs, q1, q3, color=COLOURS[0], alpha=0.25, linewidth=0,
                          label="q1-q3", step=None)
        axes.plot(xs, median, color=COLOURS[0], linewidth=1.6, marker="." if len(days) < 40
                  else None, label="median")
        axes.set_title(title, fontsize=10, loc="left")
        axes.set_ylabel(ylabel)
        axes.set_ylim(bottom=0)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes.legend(loc="upper left", fontsize=7, frameon=False)
        return to_svg(figure, prefix)


def interval_bars(prefix: str, title: str, groups: Sequence[str], series: Sequence[str],
                  central: Sequence[Sequence[float]], low: Sequence[Sequence[float]],
                  high: Sequence[Sequence[float]], *, ylabel: str, log: bool = False) -> str:
    """Grouped bars (``groups`` on x, one bar per ``series``) with low-high error bars;
    ``central[s][g]`` is the value of series ``s`` in group ``g``; ``log``: a log y axis."""
    with matplotlib.rc_context(STYLE):
        figure = _figure(max(4.2, 0.9 * len(groups) * max(1, len(series)) / 3 + 2.5), 2.8)
        axes = figure.add_subplot()
        width = 0.8 / max(1, len(series))
        for index, name in enumerate(series):
            xs = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
            values = central[index]
            errors = [[v - lo for v, lo in zip(values, low[index], strict=True)],
                      [hi - v for v, hi in zip(values, high[index], strict=True)]]
            axes.bar(xs, values, width=width * 0.95, color=COLOURS[index % len(COLOURS)],
                     label=name, yerr=errors, capsize=2, error_kw={"linewidth": 0.8})
        axes.set_xticks(range(len(groups)), list(groups))
        axes.grid(axis="x", visible=False)
        if log:
            axes.set_yscale("log")
            _log_axis(axes.yaxis)
        else:
            axes.yaxis.set_major_formatter(mticker.FuncFormatter(_plain_number))
        axes.set_title(title, fontsize=10, loc="left")
        axes.set_ylabel(ylabel)
        axes.legend(fontsize=7, frameon=False, ncols=min(4, max(1, len(series))),
                    loc="upper left", bbox_to_anchor=(0, -0.12))
        return to_svg(figure, prefix)


def horizontal_bars(prefix: str, title: str, labels: Sequence[str], series: Sequence[str],
                    values: Sequence[Sequence[float | None]], *, xlabel: str,
                    log: bool = False) -> str:
    """Horizontal grouped bars: one row per label, one bar per series (``None``: no bar)."""
    with matplotlib.rc_context(STYLE):
        figure = _figure(6.4, 0.9 + 0.14 * len(labels) * max(1, len(series)))
        axes = figure.add_subplot()
        height = 0.8 / max(1, len(series))
        for index, name in enumerate(series):
            ys = [row + (index - (len(series) - 1) / 2) * height for row in range(len(labels))]
            row_values = [value if value is not None else 0.0 for value in values[index]]
            axes.barh(ys, row_values, height=height * 0.95, color=COLOURS[index % len(COLOURS)],
                      label=name)
        axes.set_yticks(range(len(labels)), list(labels))
        axes.invert_yaxis()
        if log:
            axes.set_xscale("log")
            _log_axis(axes.xaxis)
        axes.grid(axis="y", visible=False)
        axes.set_xlabel(xlabel)
        axes.set_title(title, fontsize=10, loc="left")
        axes.legend(fontsize=7, frameon=False, loc="lower right")
        return to_svg(figure, prefix)


def stacked_bars(prefix: str, title: str, days: Sequence[date], series: Sequence[str],
                 values: Sequence[Sequence[int]], colours: Sequence[str], *,
                 ylabel: str) -> str:
    """Bars stacked per day (run statuses over time)."""
    with matplotlib.rc_context(STYLE):
        figure = _figure(6.4, 2.4)
        axes = figure.add_subplot()
        bottoms = [0] * len(days)
        for name, row, colour in zip(series, values, colours, strict=True):
            axes.bar(mdates.date2num(list(days)), row, bottom=bottoms, color=colour, label=name, width=0.8)
            bottoms = [b + v for b, v in zip(bottoms, row, strict=True)]
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes.set_ylabel(ylabel)
        axes.set_title(title, fontsize=10, loc="left")
        axes.legend(fontsize=7, frameon=False, ncols=len(series), loc="upper left",
                    bbox_to_anchor=(0, -0.15))
        return to_svg(figure, prefix)
