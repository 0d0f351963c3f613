"""Secrets stay out of images: a canary planted where secrets live appears in no layer, config or history.

The canary goes into ``.env``, ``.env.local``, ``.envrc``, a nested
``src/.env.production``, ``target/``, ``.git/config`` and files a
``.dockerignore`` excludes. The crate is built for real (static and chef, on
Docker and Podman), then

* every byte of each final image's archive (layers, config, history) and its
  inspect data is searched for the canary; the scan must find a string the
  binary is known to hold, so a scan that reads nothing cannot pass;
* the builder stage that received the context (``COPY app/ ./``) is built from
  the context the plugin makes and searched inside: it must hold a control
  string planted in a file that does go in, and not the canary. Only this
  stage sees the whole context; the final images hold just the binary.

A dangling symbolic link (as an editor's lock file) also sits in ``src/``: it
is copied as a link and does not stop the build.
"""

from __future__ import annotations

import gzip
import json
import tarfile
import uuid
from pathlib import Path

from pytest_rustimage import names
from pytest_rustimage.engines import Engine
from pytest_rustimage.engines.protocol import BuildRequest
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.context import prepare
from pytest_rustimage.recipe.vendored import vendor
from pytest_rustimage.session.factory import ImageFactory
from tests.acceptance.project import Project, remove_reported_images

BINARY_TEXT = b"Hello from a container!"  # a string literal of the hello sample's main.rs


def plant(crate: Path, canary: str, control: str) -> None:
    secret_files = {
        ".env": f"API_TOKEN={canary}\n",
        ".env.local": f"DB_PASSWORD={canary}\n",
        ".envrc": f"export TOKEN={canary}\n",
        "src/.env.production": f"KEY={canary}\n",
        "target/secret.txt": f"{canary}\n",
        ".git/config": f'[remote "origin"]\n\turl = https://user:{canary}@example.invalid/repo.git\n',
        "secrets/token.txt": f"{canary}\n",
        "deploy/key.pem": f"-----BEGIN PRIVATE KEY-----\n{canary}\n",
    }
    for rel, text in {**secret_files, "assets/visible.txt": f"{control}\n"}.items():
        path = crate / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (crate / ".dockerignore").write_text("secrets/\n**/*.pem\n")
    (crate / "src" / ".#main.rs").symlink_to("root@host.4242:1700000000")  # dangling, as an editor's lock file


def archive_holds(engine: Engine, ref: str, needles: list[bytes]) -> set[bytes]:
    """Which of ``needles`` occur anywhere in the image's archive (every member read, gzip opened)."""
    found: set[bytes] = set()
    with engine.open_archive(ref) as stream, tarfile.open(fileobj=stream, mode="r|") as outer:
        for member in outer:
            handle = outer.extractfile(member) if member.isreg() else None
            if handle is None:
                continue
            data = handle.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            found |= {needle for needle in needles if needle in data}
    return found


def test_secrets_are_in_no_layer_of_any_image(project: Project) -> None:
    canary = f"RUSTIMAGE-CANARY-{uuid.uuid4().hex}"
    control = f"RUSTIMAGE-CONTROL-{uuid.uuid4().hex}"
    crate = project.copy("hello")
    plant(crate, canary, control)
    report = project.path / "report.json"
    try:
        result = project.run(
            "hello",
            "--rust-image-strategy=static,chef",
            "--rust-image-engine=all",
            "--rust-image-checks=build,runs",
            "--rust-image-rebuild",  # an image reused from an earlier run would prove nothing
            f"--rust-image-report={report}",
        )
        result.assert_outcomes(passed=8)
        images = json.loads(report.read_text())["images"]
        assert sorted((i["strategy"], i["engine"]) for i in images) == [
            ("chef", "docker"),
            ("chef", "podman"),
            ("static", "docker"),
            ("static", "podman"),
        ]
        factory = ImageFactory()
        try:
            for image in images:
                engine = factory.engine(image["engine"])
                what = f"{image['tag']} ({image['engine']})"
                found = archive_holds(engine, image["id"], [canary.encode(), control.encode(), BINARY_TEXT])
                assert BINARY_TEXT in found, f"the scan of {what} did not even find the binary's text"
                assert canary.encode() not in found, f"the canary is in a layer, the config or the history of {what}"
                inspected = json.dumps(engine.inspect_raw(image["id"]))
                assert "/usr/local/bin/hello" in inspected
                assert canary not in inspected, f"the canary is in the inspect data of {what}"
        finally:
            factory.close()
    finally:
        remove_reported_images(report)


def test_secrets_are_not_in_the_stage_that_receives_the_context(project: Project) -> None:
    canary = f"RUSTIMAGE-CANARY-{uuid.uuid4().hex}"
    control = f"RUSTIMAGE-CONTROL-{uuid.uuid4().hex}"
    crate = project.copy("hello")
    plant(crate, canary, control)
    settings = Settings(
        cli_strategies=("static", "chef"),
        cli_engine="all",
        builder_image=names.LOCAL_BUILDER,
        runtime_image=names.LOCAL_RUNTIME,
        vendor=True,
        rootdir=project.path,
    )
    factory = ImageFactory()
    made: list[tuple[Engine, str]] = []
    try:
        for spec in specs_for(settings, crate):
            engine = factory.engine(spec.engine)
            # the context exactly as the plugin makes it for this spec (the builds above use the same)
            context, dockerfile, _ = prepare(spec, project.path)
            vendor(context / "app", context / "vendor")
            tag = f"pytest-rustimage/canary-stage:{spec.strategy}-{uuid.uuid4().hex[:12]}"
            made.append((engine, tag))
            engine.build(
                BuildRequest(
                    context=context,
                    dockerfile=dockerfile,
                    tag=tag,
                    build_args={"BUILDER_IMAGE": spec.builder_image, "RUNTIME_IMAGE": spec.runtime_image},
                    labels=factory.labels,
                    target="build",
                )
            )
            search = f"grep -rlI -e {canary} -e {control} /app /root /tmp /opt 2>/dev/null; true"
            run = engine.run(tag, ["-c", search], entrypoint=["/bin/sh"], labels=factory.labels, timeout=300)
            assert run.exit_code == 0, run.describe()
            hits = set(run.stdout.split())
            what = f"the build stage of {spec.variant}"
            assert hits, f"{what}: the search did not find the control file {control} either:\n{run.describe()}"
            assert hits == {"/app/assets/visible.txt"}, f"{what}: the canary is in {sorted(hits)}"
            listing = engine.run(tag, ["-c", "ls -a /app /app/src"], entrypoint=["/bin/sh"], labels=factory.labels)
            listed = set(listing.stdout.split())
            assert {".dockerignore", "Cargo.toml", "assets", "main.rs", ".#main.rs"} <= listed, listing.stdout
            assert not {".env", ".env.local", ".envrc", ".env.production", ".git", "secrets"} & listed, listing.stdout
    finally:
        for engine, tag in made:
            engine.remove_image(tag)
        factory.close()
