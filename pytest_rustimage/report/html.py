"""The HTML report (``--rust-image-html=PATH.html``): where each image's bytes are, as pictures.

One self-contained file (inline CSS and SVG, no script, nothing fetched),
drawn from the same records as the JSON report: an overview table of every
image (size, own bytes, change, budget, linkage, cache verdict) linking to
its section; per image, a bar per layer (the base's labelled with the base
image's name), its binary's sections, and the baseline against now.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pytest_rustimage.report.image_record import BinaryRecord, ImageRecord, Sizes
from pytest_rustimage.report.parts import ReportPart
from pytest_rustimage.units import format_size

BAR = "#3b6ea5"
BASE = "#9aa5b1"
DEBUG = "#d98e04"  # debug info and symbols
WIDTH = 720
LABEL = 300
ROW = 22

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1f2933; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table.facts td { padding: 0 1em 0 0; } .over { color: #b42318; font-weight: bold; }
table.overview { border-collapse: collapse; } table.overview th, table.overview td { padding: 4px 10px;
  border-bottom: 1px solid #d9dee3; text-align: left; } table.overview td.n { text-align: right; }
.legend { color: #52606d; font-size: 12px; margin-top: 0; }
svg text { font: 12px system-ui, sans-serif; fill: #1f2933; }
"""


def _bars(rows: Sequence[tuple[str, int, str]], title: str) -> str:
    """A horizontal bar chart: one (label, bytes, colour) per row."""
    biggest = max((size for _, size, _ in rows), default=0) or 1
    height = ROW * len(rows) + 8
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (label, size, colour) in enumerate(rows):
        y = 4 + index * ROW
        width = max(1, round((WIDTH - LABEL - 90) * size / biggest)) if size else 0
        short = label if len(label) <= 44 else label[:43] + "…"
        parts.append(f'<text x="0" y="{y + 15}"><title>{escape(label)}</title>{escape(short)}</text>')
        parts.append(f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{width}" height="{ROW - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{LABEL + width + 6}" y="{y + 15}">{escape(format_size(size))}</text>')
    parts.append("</svg>")
    return "".join(parts)


SECTIONS = 8  # the largest sections drawn one by one; the rest in one bar


def _anchor(record: ImageRecord) -> str:
    return "image-" + "-".join((record.crate, record.strategy, record.engine, record.binary))


def _overview(records: Sequence[ImageRecord], parts: Sequence[ReportPart]) -> str:
    columns = [column for part in parts for column in part.overview_columns]
    head = ["image", *(column.header for column in columns)]
    out = ['<table class="overview"><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for record in records:
        name = f"{record.crate} · {record.strategy} · {record.engine}"
        cells = [f'<td><a href="#{escape(_anchor(record))}">{escape(name)}</a></td>']
        cells += [f"<td{' class=n' if column.numeric else ''}>{column.cell(record, None)}</td>" for column in columns]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _layer_rows(sizes: Sizes | None) -> list[tuple[str, int, str]]:
    """A bar per layer; the base's layers are named after the base image (and drawn in its grey)."""
    if sizes is None:
        return []
    count = sizes.base.layers
    rows = []
    for index, layer in enumerate(sizes.layers):
        if index < count:
            label = sizes.base.name + (f" (layer {index + 1} of {count})" if count > 1 else "")
            rows.append((label, layer.size, BASE))
        else:
            rows.append((layer.created_by or "(layer)", layer.size, BAR))
    return rows


def _section_rows(binary: BinaryRecord) -> list[tuple[str, int, str]]:
    sections = sorted(binary.elf.sections.items(), key=lambda item: item[1], reverse=True)
    rows = [(name, size, DEBUG if _is_debug(name) else BAR) for name, size in sections[:SECTIONS]]
    rest = sum(size for _, size in sections[SECTIONS:])
    if rest:
        rows.append((f"{len(sections) - SECTIONS} other sections", rest, BASE))
    return rows


def _is_debug(name: str) -> bool:
    return name.startswith((".debug_", ".zdebug_")) or name in (".symtab", ".strtab")


def _image(record: ImageRecord, parts: Sequence[ReportPart]) -> str:
    name = f"{record.crate} · {record.strategy} · {record.engine}"
    out = [f'<section id="{escape(_anchor(record))}"><h2>{escape(name)}</h2>', '<table class="facts">']
    facts = [("image", escape(record.tag)), *(fact for part in parts for fact in part.html_facts(record))]
    for key, shown in facts:  # each part's rows are HTML already
        out.append(f"<tr><td>{escape(key)}</td><td>{shown}</td></tr>")
    out.append("</table>")
    layers = _layer_rows(record.sizes)
    out.append(f"<h3>Layers ({len(layers)})</h3>")
    out.append(_bars(layers, f"layer sizes of {record.tag}"))
    binary = record.binary_facts
    if binary is not None and binary.elf.sections:
        out.append(f"<h3>Sections of {escape(binary.path)} ({format_size(binary.size)})</h3>")
        out.append(_bars(_section_rows(binary), f"section sizes of {binary.path}"))
        out.append('<p class="legend">orange: debug info and symbols, which <code>strip = true</code> removes</p>')
    baseline = record.baseline
    if baseline is not None and baseline.size is not None:
        now = record.sizes.size if record.sizes is not None else 0
        out.append("<h3>Baseline and now</h3>")
        out.append(
            _bars([("baseline", baseline.size, BASE), ("now", now, BAR)], f"baseline and current size of {record.tag}")
        )
    out.append("</section>")
    return "".join(out)


def render(records: Sequence[ImageRecord], parts: Sequence[ReportPart]) -> str:
    """The report: an overview and a section per image, with each part's columns and facts (the plugin
    passes the registry's checks)."""
    body = (_overview(records, parts) + "".join(_image(record, parts) for record in records)) if records else ""
    body = body or "<p>No image was measured in this run.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pytest-rustimage report</title>'
        f"<style>{STYLE}</style></head><body><h1>pytest-rustimage report</h1>{body}</body></html>\n"
    )
