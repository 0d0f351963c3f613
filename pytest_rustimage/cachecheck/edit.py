"""The edit the cache probe applies to its copy of the crate, as a value.

An :class:`Edit` says which file it changes (when it names one), how people read it, and how it is
applied. The probe makes the default one (:func:`comment_edit`); what users pass to
``RustImage.rebuild_after`` (a callable given the copy's root folder, or a ``(relative path, new
text)`` pair) becomes one through :func:`as_edit`, at that boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pytest_rustimage.errors import ConfigError

UserEdit = Callable[[Path], object] | tuple[str, str]  # what ``rebuild_after(edit=...)`` accepts


@dataclass(frozen=True)
class Edit:
    """One edit of the crate copy: the file it changes, what people read of it, and how it is done."""

    path: str | None  # the edited file, relative to the crate's root; None when the edit does not say
    description: str  # "appended a comment to src/main.rs", "rewrote src/lib.rs", a callable's name
    change: Callable[[Path], object]  # applies the edit to the copy whose root folder it receives

    @property
    def key(self) -> str:
        """What names the edit among stored verdicts: the same for the same edit in every run."""
        return self.description

    def apply(self, root: Path) -> str:
        """Apply the edit to the crate copy at ``root``; returns its description."""
        self.change(root)
        return self.description


def comment_edit(relative: str, stamp: str) -> Edit:
    """The default edit: a comment line with ``stamp`` appended to the file ``relative`` (the checked
    binary's main source file); its description (and key) leaves the stamp out."""

    def append_comment(root: Path) -> None:
        path = root / relative
        path.write_text(path.read_text() + f"\n// pytest-rustimage cache probe {stamp}\n")

    return Edit(relative, f"appended a comment to {relative}", append_comment)


def rewrite_edit(relative: str, text: str) -> Edit:
    """An edit that writes ``text`` to the file ``relative`` (made when missing, refused outside the crate)."""

    def rewrite(root: Path) -> None:
        target = (root / relative).resolve()
        if not target.is_relative_to(root.resolve()):
            raise ConfigError(f"edit {relative!r} points outside the crate")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    return Edit(relative, f"rewrote {relative}", rewrite)


def as_edit(edit: Edit | UserEdit) -> Edit:
    """``edit`` as an :class:`Edit`: a callable is named by its ``__name__``, a (path, text) pair rewrites
    that file; anything else is a :class:`ConfigError`."""
    if isinstance(edit, Edit):
        return edit
    if callable(edit):
        return Edit(None, getattr(edit, "__name__", "custom edit"), edit)
    if isinstance(edit, tuple) and len(edit) == 2 and all(isinstance(part, str) for part in edit):
        return rewrite_edit(*edit)
    raise ConfigError(f"an edit is a callable or a (path, new text) pair, not {edit!r}")
