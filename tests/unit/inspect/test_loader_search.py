"""glibc's search along the loading chain, checked against the real loader.

Each case compiles a chain of libraries with gcc into a temporary folder, runs the executable there with
the host's glibc (Debian's ld.so, ``LD_LIBRARY_PATH`` unset), and puts the very same files at the very
same absolute paths in an image archive over a Debian base. The plugin's verdict must be the real
loader's: it loads exactly when the real run starts (exit 0, not "error while loading shared
libraries"), and each library of the chain is found at the path ld.so opened, or not found by both.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.inspect.loader import Loading, resolve_loading
from tests.unit.inspect.test_loader import Entry, debian_base, image

PREFIX = "libchain_"  # the chain's libraries: no host folder has them, so ld.so finds only ours


@dataclass(frozen=True)
class Lib:
    """One library of a chain: ``lib{PREFIX}{name}.so`` in ``folder`` (relative to the chain's root)."""

    name: str
    folder: str
    needs: tuple[str, ...] = ()
    rpath: str = ""  # DT_RPATH; "{root}" is the chain's root folder
    runpath: str = ""  # DT_RUNPATH

    @property
    def file(self) -> str:
        return f"{PREFIX}{self.name}.so"


def _path_flags(root: Path, rpath: str, runpath: str) -> list[str]:
    if rpath and runpath:
        raise ValueError("ld writes one of DT_RPATH and DT_RUNPATH, not both")
    if rpath:
        return ["-Wl,--disable-new-dtags", f"-Wl,-rpath,{rpath.format(root=root)}"]
    if runpath:
        return ["-Wl,--enable-new-dtags", f"-Wl,-rpath,{runpath.format(root=root)}"]
    return []


def build_chain(root: Path, libs: Sequence[Lib], needs: Sequence[str], *, rpath: str = "", runpath: str = "") -> Path:
    """Compile ``libs`` (each after the ones it needs) and ``bin/app`` that needs ``needs``; each library's
    function calls those of the libraries it needs, so every need is real. Returns the executable."""
    by_name: dict[str, Lib] = {}
    for lib in libs:
        by_name.setdefault(lib.name, lib)  # what a need links against: the first copy of a name
    link_all = ["-Wl,-rpath-link," + ":".join(sorted({str(root / lib.folder) for lib in libs}))]
    built: set[Lib] = set()

    def link_flags(names: Sequence[str]) -> list[str]:
        flags: list[str] = []
        for name in names:
            flags += ["-L", str(root / by_name[name].folder), f"-l:{PREFIX}{name}.so"]
        return flags

    def calls(names: Sequence[str]) -> tuple[str, str]:
        declared = "".join(f"int {PREFIX}{name}(void);\n" for name in names)
        return declared, " + ".join([*(f"{PREFIX}{name}()" for name in names), "0"])

    def build(lib: Lib) -> None:
        if lib in built:
            return
        for name in lib.needs:
            build(by_name[name])
        folder = root / lib.folder
        folder.mkdir(parents=True, exist_ok=True)
        declared, body = calls(lib.needs)
        source = root / f"{lib.name}.c"
        source.write_text(f"{declared}int {PREFIX}{lib.name}(void) {{ return {body}; }}\n")
        command = ["gcc", "-shared", "-fPIC", "-o", str(folder / lib.file), str(source)]
        command += [f"-Wl,-soname,{lib.file}", *link_flags(lib.needs), *link_all]
        subprocess.run([*command, *_path_flags(root, lib.rpath, lib.runpath)], check=True, capture_output=True)
        built.add(lib)

    for lib in libs:
        build(lib)
    declared, body = calls(needs)
    source = root / "app.c"
    source.write_text(f"{declared}int main(void) {{ return {body}; }}\n")
    (root / "bin").mkdir(exist_ok=True)
    app = root / "bin" / "app"
    command = ["gcc", "-o", str(app), str(source), *link_flags(needs), *link_all, *_path_flags(root, rpath, runpath)]
    subprocess.run(command, check=True, capture_output=True)
    return app


@dataclass(frozen=True)
class Verdict:
    loads: bool
    found: dict[str, str | None]  # each library of the chain -> where it was found, None: not found


def real_loader(app: Path) -> Verdict:
    """What the host's ld.so does with ``app``: does it start, and where did it find each library."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LD_")}
    run = subprocess.run([str(app)], env=env, capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        assert "error while loading shared libraries" in run.stderr, (run.returncode, run.stderr)
    trace = subprocess.run(
        [str(app)], env={**env, "LD_TRACE_LOADED_OBJECTS": "1"}, capture_output=True, text=True, timeout=60
    )
    found: dict[str, str | None] = {}
    for line in trace.stdout.splitlines():
        name, arrow, where = line.strip().partition(" => ")
        if arrow and name.startswith(PREFIX):
            found[name] = None if where.startswith("not found") else posixpath.normpath(where.rsplit(" (", 1)[0])
    return Verdict(run.returncode == 0, found)


def plugin_loader(root: Path, app: Path) -> tuple[Verdict, Loading]:
    """The plugin's verdict on ``app`` in an image holding the chain's files at the same paths."""
    files: list[Entry] = [
        ("file", str(path).lstrip("/"), path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and (path.suffix == ".so" or path == app)
    ]
    data = app.read_bytes()
    loading = resolve_loading(image(debian_base(), files), str(app), inspect_elf(data))
    found: dict[str, str | None] = {n: p for n, p in loading.resolved.items() if n.startswith(PREFIX)}
    found |= {p.library: None for p in loading.problems if p.kind == "missing"}
    return Verdict(loading.loads, found), loading


def check(root: Path, app: Path, loads: bool) -> Loading:
    """The real loader's verdict is ``loads``, and the plugin's is the real loader's."""
    real = real_loader(app)
    assert real.loads is loads, f"the real loader's verdict is not the case's: {real}"
    plugin, loading = plugin_loader(root, app)
    assert plugin == real, loading.problems
    return loading


@pytest.mark.parametrize("copy_beside_exe", [False, True], ids=["only-exe-rpath", "first-found-wins"])
def test_a_the_executables_rpath_serves_a_middle_librarys_needs(tmp_path: Path, copy_beside_exe: bool) -> None:
    """(a) RPATH on the executable only: a middle library (no paths of its own) finds its need through it."""
    libs = [Lib("mid", "a", needs=("leaf",)), Lib("leaf", "b")]
    if copy_beside_exe:  # the same name earlier in the executable's RPATH: that copy is the one loaded
        libs.append(Lib("leaf", "a"))
    app = build_chain(tmp_path, libs, ["mid"], rpath="{root}/a:{root}/b")
    loading = check(tmp_path, app, loads=True)
    where = "a" if copy_beside_exe else "b"
    assert loading.resolved[f"{PREFIX}leaf.so"] == f"{tmp_path}/{where}/{PREFIX}leaf.so"


@pytest.mark.parametrize("through_a_child", [False, True], ids=["middle-needs-it", "its-child-needs-it"])
def test_b_a_runpath_turns_off_every_rpath_for_that_librarys_own_needs(tmp_path: Path, through_a_child: bool) -> None:
    """(b) RUNPATH on a middle library: its own needs are not looked for in the executable's RPATH (a
    library reachable only there is not found); a child of it without RUNPATH does use that RPATH."""
    mid = Lib("mid", "a", needs=("kid",) if through_a_child else ("leaf",), runpath="$ORIGIN/own")
    libs = [mid, Lib("kid", "a/own", needs=("leaf",)), Lib("leaf", "b")]
    app = build_chain(tmp_path, libs, ["mid"], rpath="{root}/a:{root}/b")
    loading = check(tmp_path, app, loads=through_a_child)
    if not through_a_child:
        (problem,) = loading.problems
        assert problem.library == f"{PREFIX}leaf.so" and problem.needed_by == f"{tmp_path}/a/{PREFIX}mid.so"
        assert f"{tmp_path}/b" not in problem.looked_in and problem.looked_in[0] == f"{tmp_path}/a/own"


@pytest.mark.parametrize("copy_in_exe_rpath", [False, True], ids=["only-there", "before-the-executables"])
def test_c_a_middle_librarys_origin_rpath_serves_a_deeper_library(tmp_path: Path, copy_in_exe_rpath: bool) -> None:
    """(c) RPATH ``$ORIGIN/sub`` on a middle library: a deeper library (no paths of its own) finds its need
    there, ``$ORIGIN`` being the middle library's folder (the deeper one's would be ``m/sub/sub``). The
    middle library's RPATH comes before the executable's."""
    libs = [Lib("mid", "m", needs=("deep",), rpath="$ORIGIN/sub"), Lib("deep", "m/sub", needs=("leaf",))]
    libs.append(Lib("leaf", "m/sub"))
    if copy_in_exe_rpath:
        libs.append(Lib("leaf", "e"))
    app = build_chain(tmp_path, libs, ["mid"], rpath="{root}/m:{root}/e")
    loading = check(tmp_path, app, loads=True)
    assert loading.resolved[f"{PREFIX}leaf.so"] == f"{tmp_path}/m/sub/{PREFIX}leaf.so"


@pytest.mark.parametrize("requester_runpath", [False, True], ids=["grandchild-plain", "grandchild-with-runpath"])
def test_d_an_intermediate_loaders_rpath_serves_its_grandchild(tmp_path: Path, requester_runpath: bool) -> None:
    """(d) app -> a (RPATH y:z) -> b (RUNPATH w) -> c -> d: c finds d through a's RPATH, up the chain past b,
    whose RUNPATH stops nothing for c. When c has a RUNPATH itself, no RPATH is searched for it: d is
    not found. The executable has a RUNPATH only, so no RPATH of its own."""
    libs = [
        Lib("a", "x", needs=("b",), rpath="{root}/y:{root}/z"),
        Lib("b", "y", needs=("c",), runpath="{root}/w"),
        Lib("c", "w", needs=("d",), runpath="$ORIGIN" if requester_runpath else ""),
        Lib("d", "z"),
    ]
    app = build_chain(tmp_path, libs, ["a"], runpath="{root}/x")
    loading = check(tmp_path, app, loads=not requester_runpath)
    if not requester_runpath:
        assert loading.resolved[f"{PREFIX}d.so"] == f"{tmp_path}/z/{PREFIX}d.so"
