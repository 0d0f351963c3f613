"""The HTML report (``--rust-image-html=PATH.html``): where each image's bytes are, as pictures.

One self-contained file (inline CSS and SVG, no script, nothing fetched),
drawn from the same records as the JSON report: an overview table of every
image (size, own bytes, change, budget, linkage, cache verdict) linking to
its section; per image, a bar per layer (the base's labelled with the base
image's name), its binary's sections, and the baseline against now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

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


def _anchor(record: Mapping[str, Any]) -> str:
    return "image-" + "-".join(str(record.get(k, "")) for k in ("crate", "strategy", "engine", "binary"))


def _change(record: Mapping[str, Any]) -> str:
    baseline = record.get("baseline") or {}
    change = baseline.get("change")
    if change is None:
        return "new" if baseline else "-"
    text = "=" if change == 0 else f"{'+' if change > 0 else '-'}{format_size(abs(change))}"
    return f'<span class="over">{text}</span>' if baseline.get("status") == "over" else text


def _cache(record: Mapping[str, Any]) -> str:
    cache = record.get("cache")
    if not cache:
        return "-"
    if cache.get("inconclusive"):
        return "INCONCLUSIVE: cargo's output hidden after the edit"
    verdict = "deps reused" if cache["deps_reused"] else "deps REBUILT"
    return f"{verdict}, {len(cache['third_party_recompiled'])} third-party recompiled"


def _overview(records: Sequence[Mapping[str, Any]]) -> str:
    head = ("image", "size", "own bytes", "change (own)", "budget", "binary linkage", "cache")
    out = ['<table class="overview"><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for record in records:
        name = f"{record['crate']} · {record['strategy']} · {record['engine']}"
        size = record.get("size")
        own = record.get("own_bytes")
        binary = record.get("binary_facts") or {}
        cells = [
            f'<a href="#{escape(_anchor(record))}">{escape(name)}</a>',
            escape(format_size(size)) if size is not None else "?",
            escape(format_size(own)) if own is not None else "?",
            _change(record),
            escape(format_size(record["budget"])),
            escape(str(binary.get("linkage", "-"))) + _loads_mark(binary),
            escape(_cache(record)),
        ]
        out.append(
            "<tr>" + "".join(f"<td{' class=n' if 0 < i < 5 else ''}>{c}</td>" for i, c in enumerate(cells)) + "</tr>"
        )
    out.append("</table>")
    return "".join(out)


def _loads_mark(binary: Mapping[str, Any]) -> str:
    """``would not load`` beside the linkage of a binary whose libraries the image lacks."""
    loads = binary.get("loads", True)
    return "" if loads is True else ' <span class="over">would not load</span>'


def _layer_rows(record: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """A bar per layer; the base's layers are named after the base image (and drawn in its grey)."""
    base = record.get("base") or {}
    count = int(base.get("layers") or 0)
    rows = []
    for index, layer in enumerate(record.get("layers", [])):
        if index < count:
            label = str(base.get("name")) + (f" (layer {index + 1} of {count})" if count > 1 else "")
            rows.append((label, int(layer["size"]), BASE))
        else:
            rows.append((str(layer.get("created_by") or "(layer)"), int(layer["size"]), BAR))
    return rows


def _section_rows(binary: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    sections = sorted((binary.get("sections") or {}).items(), key=lambda item: item[1], reverse=True)
    rows = [(name, int(size), DEBUG if _is_debug(name) else BAR) for name, size in sections[:SECTIONS]]
    rest = sum(int(size) for _, size in sections[SECTIONS:])
    if rest:
        rows.append((f"{len(sections) - SECTIONS} other sections", rest, BASE))
    return rows


def _is_debug(name: str) -> bool:
    return name.startswith((".debug_", ".zdebug_")) or name in (".symtab", ".strtab")


def _image(record: Mapping[str, Any]) -> str:
    name = f"{record['crate']} · {record['strategy']} · {record['engine']}"
    out = [f'<section id="{escape(_anchor(record))}"><h2>{escape(name)}</h2>', '<table class="facts">']
    facts = [
        ("image", record["tag"]),
        ("size", f"{format_size(record.get('size', 0))} ({record.get('size', 0)} bytes)"),
        ("budget", format_size(record["budget"])),
    ]
    if record.get("own_bytes") is not None:
        base = record.get("base") or {}
        facts.append(("own bytes", f"{format_size(record['own_bytes'])} above the base {base.get('name', '?')}"))
    baseline = record.get("baseline")
    if baseline and baseline.get("size") is not None:
        css = ' class="over"' if baseline.get("status") == "over" else ""
        change = baseline.get("change") or 0
        sign = "+" if change >= 0 else "-"
        facts.append(("vs baseline", f"<span{css}>{sign}{format_size(abs(change))} (own bytes)</span>"))
        if baseline.get("base_changed"):
            facts.append(("base", str(baseline["base_changed"])))
    binary = record.get("binary_facts")
    if binary:
        facts.append(("binary", f"{binary['path']}: {binary['linkage']}, libc {binary['libc']}"))
        if "debug_bytes" in binary:
            facts.append(("debug info and symbols", format_size(int(binary["debug_bytes"]))))
        loads = binary.get("loads", True)
        if loads is not True:
            facts.append(("would not load", "; ".join(str(problem) for problem in loads)))
        elif binary.get("resolved"):
            libraries = ", ".join(f"{name} at {path}" for name, path in sorted(binary["resolved"].items()))
            facts.append(("loads", libraries))
    cache = record.get("cache")
    if cache:
        said = (
            "inconclusive: cargo's output hidden in "
            + "; ".join(
                f"[{h['stage']}] {h['instruction']}"
                for h in cache.get("hidden", [])
                if not h["settled"] and h.get("build") == "after"  # the steps that leave the verdict open
            )
            if cache.get("inconclusive")
            else f"deps {'reused' if cache['deps_reused'] else 'rebuilt'}, "
            f"{len(cache['third_party_recompiled'])} third-party recompiled"
        )
        stored = " (an earlier run's verdict for the same inputs)" if cache.get("stored") else ""
        facts.append(("cache", said + stored))
    for key, value in facts:
        shown = value if key == "vs baseline" else escape(str(value))
        out.append(f"<tr><td>{escape(key)}</td><td>{shown}</td></tr>")
    out.append("</table>")
    layers = _layer_rows(record)
    out.append(f"<h3>Layers ({len(layers)})</h3>")
    out.append(_bars(layers, f"layer sizes of {record['tag']}"))
    if binary and binary.get("sections"):
        out.append(f"<h3>Sections of {escape(str(binary['path']))} ({format_size(int(binary['size']))})</h3>")
        out.append(_bars(_section_rows(binary), f"section sizes of {binary['path']}"))
        out.append('<p class="legend">orange: debug info and symbols, which <code>strip = true</code> removes</p>')
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
    body = (_overview(records) + "".join(_image(record) for record in records)) if records else ""
    body = body or "<p>No image was measured in this run.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pytest-rustimage report</title>'
        f"<style>{STYLE}</style></head><body><h1>pytest-rustimage report</h1>{body}</body></html>\n"
    )
