"""The HTML report's overview table, base-layer labels and section bars, from typed records."""

from __future__ import annotations

from pytest_rustimage.checks.registry import CHECKS
from pytest_rustimage.report.html import render
from tests.unit.report.records_example import record

RECORD = {
    "crate": "server",
    "strategy": "chef",
    "engine": "docker",
    "binary": "server",
    "tag": "pytest-rustimage/server:chef-0123456789abcdef",
    "budget": 35 * 1024 * 1024,
    "size": 16 * 1024 * 1024,
    "own_bytes": 3 * 1024 * 1024,
    "base": {"name": "pytest-rustimage/runtime:cc-bookworm", "id": "sha256:1", "layers": 1, "size": 13 << 20},
    "layers": [{"size": 13 << 20, "created_by": ""}, {"size": 3 << 20, "created_by": "COPY /rust-image-out/server"}],
    "baseline": {"size": 15 << 20, "own": 2 << 20, "change": 1 << 20, "status": "over", "base_changed": None},
    "binary_facts": {"path": "/usr/local/bin/server", "size": 3 << 20, "linkage": "dynamic", "libc": "glibc",
                     "debug_bytes": 10, "sections": {".text": 2 << 20, ".rodata": 1 << 19, ".symtab": 10}},
    "cache": {"deps_reused": True, "third_party_recompiled": []},
}  # fmt: skip


def test_overview_links_each_image_and_shows_own_bytes() -> None:
    text = render([record(**RECORD)], CHECKS)
    overview = text.split('<table class="overview">', 1)[1].split("</table>", 1)[0]
    assert '<a href="#image-server-chef-docker-server">server · chef · docker</a>' in overview
    for cell in ("16.0 MiB", "3.0 MiB", '<span class="over">+1.0 MiB</span>', "35.0 MiB", "dynamic", "deps reused"):
        assert cell in overview, cell
    assert '<section id="image-server-chef-docker-server">' in text
    assert text.index('class="overview"') < text.index("<section")  # the report opens with it


def test_base_layer_is_named_after_the_base_and_sections_are_drawn() -> None:
    text = render([record(**RECORD)], CHECKS)
    assert "(layer)" not in text and "pytest-rustimage/runtime:cc-bookworm</text>" in text
    assert "<h3>Sections of /usr/local/bin/server (3.0 MiB)</h3>" in text
    assert text.count('class="bar"') == 2 + 3 + 2  # layers, sections, baseline and now
    assert render([], CHECKS).count("No image was measured") == 1


def test_an_inconclusive_cache_verdict_names_the_hidden_step() -> None:
    hidden = {"build": "after", "stage": "builder", "instruction": "RUN cargo build -q", "reasons": [], "settled": ""}
    cache = {"deps_reused": False, "inconclusive": True, "third_party_recompiled": [], "hidden": [hidden]}
    text = render([record(**{**RECORD, "cache": cache})], CHECKS)
    assert "INCONCLUSIVE: cargo&#x27;s output hidden after the edit" in text
    assert "inconclusive: cargo&#x27;s output hidden in [builder] RUN cargo build -q" in text


def test_the_reproducible_verdict_is_a_fact_of_its_image_only_when_the_check_ran() -> None:
    verdict = {"identical": False, "summary": "the binary differs from a second build"}
    text = render([record(**{**RECORD, "reproducible": verdict})], CHECKS)
    assert "<tr><td>reproducible</td><td>NO: the binary differs from a second build</td></tr>" in text
    assert "reproducible" not in render([record(**RECORD)], CHECKS)
