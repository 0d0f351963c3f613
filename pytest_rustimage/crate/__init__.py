"""Reading a crate: its Cargo manifests, workspace, binaries and ``rust-image`` metadata.

Pure readers of files on disk (``cargo metadata`` is asked where cargo is on PATH), and the dependency
graph cargo gives a binary (``dep_graph``). They may import
only the foundation modules (``errors``, ``units``, ``names``); nothing here knows of engines,
images or pytest.
"""

from pytest_rustimage.crate.reader import (
    METADATA_KEY,
    Binary,
    Crate,
    Package,
    find_manifest,
    is_workspace_member,
    load_toml,
    read_crate,
    unusable_manifest,
)

__all__ = [
    "METADATA_KEY",
    "Binary",
    "Crate",
    "Package",
    "find_manifest",
    "is_workspace_member",
    "load_toml",
    "read_crate",
    "unusable_manifest",
]
