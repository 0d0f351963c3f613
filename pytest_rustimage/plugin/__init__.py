"""The pytest plugin: the package's only pytest glue, registered as the ``rustimage`` entry point.

Options and ini keys (``options``), the settings read once (``settings``), their resolution with a
crate and a marker into :class:`~pytest_rustimage.recipe.spec.ImageSpec` s (``resolve``), the
session's state (``state``), the built-in check items (``items``), the fixtures (``fixtures``),
SIGTERM taken as Ctrl-C (``terminate``) and the hooks (``hooks``). pytest finds the hooks and
fixtures here, where the entry point names this package. It may import every lower layer; nothing
below it imports it.
"""

from __future__ import annotations

from pytest_rustimage.plugin.fixtures import rust_image, rust_image_factory, rust_image_parity
from pytest_rustimage.plugin.hooks import (
    pytest_addoption,
    pytest_collect_file,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_generate_tests,
    pytest_ignore_collect,
    pytest_report_header,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
    pytest_xdist_node_collection_finished,
)

__all__ = [
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_ignore_collect",
    "pytest_report_header",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "pytest_xdist_node_collection_finished",
    "rust_image",
    "rust_image_factory",
    "rust_image_parity",
]
