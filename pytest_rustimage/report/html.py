"""The HTML report (``--rust-image-html=PATH.html``): where each image's bytes are, as pictures.

One self-contained file (inline CSS and SVG, no script, nothing fetched),
drawn from the same records as the JSON report: per image, a bar per layer
and the baseline against now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from pytest_rustimage.units import format_size

BAR = "#3b6ea5"
BASE = "#9aa5b1"
WIDTH = 720
LABEL = 300
ROW = 22

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1f2933; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table.facts td { padding: 0 1em 0 0; } .over { color: #b42318; font-weight: bold; }
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


def _image(record: Mapping[str, Any]) -> str:
    name = f"{record['crate']} · {record['strategy']} · {record['engine']}"
    out = [f"<section><h2>{escape(name)}</h2>", '<table class="facts">']
    facts = [
        ("image", record["tag"]),
        ("size", f"{format_size(record.get('size', 0))} ({record.get('size', 0)} bytes)"),
        ("budget", format_size(record["budget"])),
    ]
    baseline = record.get("baseline")
    if baseline and baseline.get("size") is not None:
        css = ' class="over"' if baseline.get("status") == "over" else ""
        change = baseline.get("change") or 0
        facts.append(("vs baseline", f"<span{css}>{'+' if change >= 0 else '-'}{format_size(abs(change))}</span>"))
    binary = record.get("binary_facts")
    if binary:
        facts.append(("binary", f"{binary['path']}: {binary['linkage']}, libc {binary['libc']}"))
    cache = record.get("cache")
    if cache:
        facts.append(
            (
                "cache",
                f"deps {'reused' if cache['deps_reused'] else 'rebuilt'}, "
                f"{len(cache['third_party_recompiled'])} third-party recompiled"
                + (" (an earlier run's verdict for the same inputs)" if cache.get("stored") else ""),
            )
        )
    for key, value in facts:
        shown = value if key == "vs baseline" else escape(str(value))
        out.append(f"<tr><td>{escape(key)}</td><td>{shown}</td></tr>")
    out.append("</table>")
    layers = [
        (str(layer.get("created_by") or "(layer)"), int(layer["size"]), BAR) for layer in record.get("layers", [])
    ]
    out.append(f"<h3>Layers ({len(layers)})</h3>")
    out.append(_bars(layers, f"layer sizes of {record['tag']}"))
    if baseline and baseline.get("size") is not None:
        out.append("<h3>Baseline and now</h3>")
        out.append(
            _bars(
                [("baseline", int(baseline["size"]), BASE), ("now", int(record.get("size", 0)), BAR)],
                f"baseline and current size of {record['tag']}",
            )
        )
    out.append("</section>")
    return "".join(out)


def render(records: Sequence[Mapping[str, Any]]) -> str:
    body = "".join(_image(record) for record in records) or "<p>No image was measured in this run.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pytest-rustimage report</title>'
        f"<style>{STYLE}</style></head><body><h1>pytest-rustimage report</h1>{body}</body></html>\n"
    )
