"""An image's files as a container sees them: its layers merged, read from the image archive.

What the loader resolves (:mod:`pytest_rustimage.inspect.loader`) has to be read where the binary
will run: in the image, not on the host. No container is started for it. The ``docker-archive``
stream both engines write holds every layer as a tar, plain or compressed (gzip, zstd: told by its
first bytes). Applying them bottom to top (a whiteout ``.wh.NAME`` deletes a lower path and all under
it, an opaque marker ``.wh..wh..opq`` hides a folder's lower content, an upper entry replaces a lower
one) gives the merged tree that overlayfs would show. A layer that cannot be read is named in
:attr:`ImageFs.unreadable`, never dropped: any file may be in it, or deleted by it.

Only the bytes a resolution reads are kept (shared libraries, the loader's configuration; see
:func:`default_keep`). Every other file is known by its kind and size alone, so the memory this
costs is a fraction of the image. Symbolic links are followed inside the image, never on the host,
with a bound on their number. A dangling link, a loop or a missing path is a :class:`FsProblem` that
names the path, never a crash.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect.archive import DIGEST_TAR, LayerContent, count_member, deletion
from pytest_rustimage.inspect.elf import ElfFacts, inspect_elf
from pytest_rustimage.inspect.layer_stream import LAYER_ERRORS, LayerUnreadable, open_layer

MAX_LINKS = 40  # as Linux's own bound on links followed in one path lookup
Kind = Literal["file", "link", "dir", "other"]


class FsProblem(RustImageError):
    """A path in the image that cannot be followed or read: missing, a dangling link, a loop, not a file."""

    def __init__(self, path: str, message: str, reason: Literal["missing", "dangling", "loop", "not a file"]) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Node:
    """One entry of the merged tree."""

    kind: Kind
    target: str = ""  # a link's target, as stored
    size: int = 0
    data: bytes | None = field(default=None, repr=False)  # a kept file's bytes


@dataclass
class LayerTree:
    """What one layer tar holds: its entries by path (no leading ``/``), and what it deletes below."""

    nodes: dict[str, Node] = field(default_factory=dict)
    whiteouts: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)


def default_keep(path: str) -> bool:
    """Whether a file's bytes are kept: shared libraries (any name with ``.so``: ``libc.so.6``, the
    loader ``ld-linux-x86-64.so.2``), the loader's configuration (``etc/ld.so.conf`` and the
    ``.conf`` files under ``etc/`` that it may include: small files, ``nsswitch.conf`` among them) and
    the user database the ``needs`` check reads (``etc/passwd``, ``etc/group``)."""
    name = path.rsplit("/", 1)[-1]
    if path in ("etc/passwd", "etc/group"):
        return True
    return ".so" in name or path.startswith("etc/ld.so.conf") or (path.startswith("etc/") and name.endswith(".conf"))


def _clean(path: str) -> str:
    return posixpath.normpath("/" + path.removeprefix("./")).lstrip("/") if path.strip("/.") else ""


def read_layer_tree(layer: IO[bytes], keep: Callable[[str], bool] = default_keep) -> LayerTree:
    """One layer tar: its entries (kept files with their bytes), whiteouts and opaque folders."""
    tree = LayerTree()
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            _place(tree, tar, member, keep)
    return tree


def read_layer_both(layer: IO[bytes], keep: Callable[[str], bool] = default_keep) -> tuple[LayerContent, LayerTree]:
    """One layer tar read once for both uses: what :func:`archive.read_layer` counts of it (its size)
    and what :func:`read_layer_tree` keeps of it (its entries), each member handled as each of them does."""
    content = LayerContent({}, set(), set())
    tree = LayerTree()
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            count_member(content, member)
            _place(tree, tar, member, keep)
    return content, tree


def _place(tree: LayerTree, tar: tarfile.TarFile, member: tarfile.TarInfo, keep: Callable[[str], bool]) -> None:
    """Add one member of a layer tar to ``tree`` (a kept file with its bytes, read from ``tar`` now)."""
    path = _clean(member.name)
    deleted = deletion(path)
    if deleted is not None:
        (tree.opaque if deleted[0] == "opaque" else tree.whiteouts).add(deleted[1])
    elif member.isdir():
        tree.nodes[path] = Node("dir")
    elif member.issym():
        tree.nodes[path] = Node("link", target=member.linkname, size=len(member.linkname))
    elif member.islnk():  # a hard link: the same file as an earlier member of this layer
        source = tree.nodes.get(_clean(member.linkname))
        tree.nodes[path] = source if source is not None else Node("file", size=member.size)
    elif member.isreg():
        data = None
        if keep(path):
            handle = tar.extractfile(member)
            data = handle.read() if handle is not None else None
        tree.nodes[path] = Node("file", size=member.size, data=data)
    elif path:
        tree.nodes[path] = Node("other")


def _under(path: str, folder: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def merge_layers(layers: Sequence[LayerTree], unreadable: Mapping[str, str] | None = None) -> ImageFs:
    """The tree a container sees: ``layers`` (bottom first) applied in order; ``unreadable``: the layers
    that could not be read (name -> why), which leave the tree unknown."""
    merged: dict[str, Node] = {}
    for layer in layers:
        gone = [*layer.whiteouts, *layer.opaque]
        if gone:
            hidden = {p for p in merged for g in gone if (p != g or g in layer.whiteouts) and _under(p, g)}
            for opaque in layer.opaque:
                hidden.discard(opaque)  # the folder stays; its lower content goes
            for path in hidden:
                del merged[path]
        for path, node in layer.nodes.items():
            below = merged.get(path)
            if below is not None and below.kind == "dir" and node.kind != "dir":
                for child in [p for p in merged if p.startswith(path + "/")]:
                    del merged[child]
            merged[path] = node
    return ImageFs(merged, unreadable)


def read_image_fs(stream: IO[bytes], keep: Callable[[str], bool] = default_keep) -> ImageFs:
    """The merged tree of the single image in a ``docker-archive`` stream (Docker's ``V1ID/layer.tar``,
    Podman's ``HEX.tar`` or OCI ``blobs/sha256/HEX`` members), in the order its manifest gives.

    A layer is a plain, gzip or zstd tar, told by its first bytes (:func:`archive.open_layer`). A layer
    of the manifest that could not be read (zstd without a decoder, damaged, absent) is not dropped:
    :attr:`ImageFs.unreadable` names it, and no verdict is drawn from such a tree.

    ``ValueError`` when the stream is not an image archive with one image."""
    trees: dict[str, LayerTree] = {}
    failed: dict[str, str] = {}  # member -> why it could not be read (told if the manifest lists it)
    aliases: dict[str, str] = {}  # Docker writes a layer that repeats an earlier one as a link to its tar
    manifest: bytes | None = None
    with tarfile.open(fileobj=stream, mode="r|") as outer:
        for member in outer:
            name = member.name.removeprefix("./")
            if member.issym() and name.endswith("layer.tar"):
                aliases[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            if not member.isreg():
                continue
            handle = outer.extractfile(member)
            if handle is None:
                continue
            if name == "manifest.json":
                manifest = handle.read()
            elif is_layer_name(name):
                try:
                    layer = open_layer(handle.read(512), handle)
                    if layer is not None:
                        trees[name] = read_layer_tree(layer, keep)
                except LayerUnreadable as exc:
                    failed[name] = str(exc)
                except LAYER_ERRORS as exc:
                    failed[name] = f"it is damaged: {type(exc).__name__}: {exc}"
    if manifest is None:
        raise ValueError("not an image archive: it has no manifest.json")
    try:
        order = [str(n).removeprefix("./") for n in json.loads(manifest)[0]["Layers"]]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"not an image archive with one image: {exc}") from exc
    return assemble_fs(order, trees, aliases, failed)


def is_layer_name(name: str) -> bool:
    """Whether an archive member is read as a layer by its name: Docker's ``V1ID/layer.tar``, Podman's
    ``HEX.tar``, OCI's ``blobs/sha256/HEX``."""
    return name.endswith("/layer.tar") or DIGEST_TAR.match(name) is not None


def assemble_fs(
    order: Sequence[str], trees: Mapping[str, LayerTree], aliases: Mapping[str, str], failed: Mapping[str, str]
) -> ImageFs:
    """The merged tree of the layer members ``order`` names (the manifest's, bottom first), a member
    Docker wrote as a link taken from the tar it repeats; one without a tree is named unreadable, with
    why from ``failed`` when it is there."""
    layers: list[LayerTree] = []
    unreadable: dict[str, str] = {}
    for name in order:
        tree = trees.get(aliases.get(name, name))
        if tree is None:
            why = "it is not in the archive as a tar, gzip or zstd stream"
            unreadable[name] = failed.get(aliases.get(name, name), why)
        layers.append(tree or LayerTree())
    return merge_layers(layers, unreadable)


class ImageFs:
    """The merged tree: entries by absolute path, links followed inside the image."""

    def __init__(self, nodes: Mapping[str, Node], unreadable: Mapping[str, str] | None = None) -> None:
        self.unreadable: Mapping[str, str] = dict(unreadable or {})  # layer -> why it could not be read
        self._nodes = {("/" + path.lstrip("/")) if path else "/": node for path, node in nodes.items()}
        for path in list(self._nodes):  # a layer need not list the folders its files are in
            folder = posixpath.dirname(path)
            while folder not in self._nodes:
                self._nodes[folder] = Node("dir")
                folder = posixpath.dirname(folder)

    def node(self, path: str) -> Node | None:
        """The entry at ``path`` itself (a link is not followed), or None."""
        return self._nodes.get(_absolute(path))

    def paths(self) -> Iterator[str]:
        return iter(self._nodes)

    def resolve(self, path: str) -> str:
        """``path`` with every link in it followed (the last component's too): the real entry's path.

        :class:`FsProblem` when a component is missing, a link dangles, or there are more than
        :data:`MAX_LINKS` links (a loop)."""
        wanted = _absolute(path)
        done = "/"
        # each part to walk, and whether it came from a link's target (a miss there is a dangling link)
        rest = [(part, False) for part in wanted.split("/") if part]
        links = 0
        chain: list[str] = []
        while rest:
            part, linked = rest.pop(0)
            if part == ".":
                continue
            if part == "..":
                done = posixpath.dirname(done) or "/"
                continue
            here = posixpath.join(done, part)
            node = self._nodes.get(here)
            if node is None:
                if linked:
                    links_text = " -> ".join([wanted, *chain])
                    message = f"{wanted} is a dangling link ({links_text}: {here} is missing)"
                    raise FsProblem(wanted, message, "dangling")
                raise FsProblem(wanted, f"{wanted} is not in the image ({here} is missing)", "missing")
            if node.kind == "link":
                links += 1
                if links > MAX_LINKS:
                    loop = " -> ".join([wanted, *chain[:4]])
                    message = f"{wanted} is a link loop (more than {MAX_LINKS} links: {loop} ...)"
                    raise FsProblem(wanted, message, "loop")
                chain.append(node.target)
                rest = [(p, True) for p in node.target.split("/") if p] + rest
                if node.target.startswith("/"):
                    done = "/"
                continue
            if rest and node.kind != "dir":
                raise FsProblem(wanted, f"{wanted} is not in the image ({here} is not a folder)", "missing")
            done = here
        return done

    def exists(self, path: str) -> bool:
        """Whether ``path`` leads somewhere, links followed."""
        try:
            self.resolve(path)
        except FsProblem:
            return False
        return True

    def is_dir(self, path: str) -> bool:
        try:
            node = self._nodes.get(self.resolve(path))
        except FsProblem:
            return False
        return node is not None and node.kind == "dir"

    def read(self, path: str) -> bytes:
        """The bytes of the regular file at ``path`` (links followed); :class:`FsProblem` otherwise."""
        real = self.resolve(path)
        node = self._nodes[real]
        if node.kind != "file":
            raise FsProblem(path, f"{path} is not a regular file (it is a {node.kind})", "not a file")
        if node.data is None:
            raise FsProblem(path, f"{path}: its bytes were not read from the image", "not a file")
        return node.data

    def elf(self, path: str) -> ElfFacts:
        """The ELF facts of the file at ``path``: :class:`FsProblem` as :meth:`read`, ``NotAnElfError``."""
        return inspect_elf(self.read(path), name=path)

    def listdir(self, folder: str) -> list[str]:
        """The names in ``folder`` (links followed), sorted; empty when it is no folder."""
        try:
            real = self.resolve(folder)
        except FsProblem:
            return []
        prefix = real.rstrip("/") + "/"
        return sorted({p[len(prefix) :].split("/", 1)[0] for p in self._nodes if p.startswith(prefix)})

    def glob(self, pattern: str) -> list[str]:
        """Absolute paths matching ``pattern`` (``fnmatch`` wildcards per component, as glob(3) does for
        ``ld.so.conf``'s ``include``), through linked folders too; sorted."""
        found = ["/"]
        for part in [p for p in _absolute(pattern).split("/") if p]:
            step: list[str] = []
            for base in found:
                if not any(ch in part for ch in "*?["):
                    candidate = posixpath.join(base, part)
                    if self.node(candidate) is not None or self.exists(candidate):
                        step.append(candidate)
                    continue
                names = self.listdir(base)
                step += [
                    posixpath.join(base, name)
                    for name in names
                    if fnmatch.fnmatchcase(name, part) and not name.startswith(".")
                ]
            found = step
        return sorted(path for path in found if self.exists(path))


def _absolute(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path.strip("/") else "/"
