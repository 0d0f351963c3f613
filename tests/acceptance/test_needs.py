"""What the binary reads at run time is in its image: the ``needs`` check, on both engines, in one session.

* ``needs`` (sample_crates/needs: rustls-native-certs and jiff) built ``static`` on scratch: builds, runs
  ``--version``, and fails ``needs`` naming the CA certificates and the time zones; its own Dockerfile
  puts it on the Debian runtime with the builder's CA bundle, where ``needs`` passes;
* ``shellform``: hello on scratch with a shell-form ``CMD``; ``nouser``: hello on scratch as ``USER app``.

Then the binaries are run for real, so each failure is shown to be real: ``needs roots`` and
``needs tz Europe/Paris`` fail on scratch and work on the runtime; the engines refuse the shell-form
command and the unknown user.
"""

from __future__ import annotations

import json
import subprocess

from pytest_rustimage.engines import ENGINE_NAMES
from pytest_rustimage.names import LOCAL_BUILDER
from tests.acceptance.project import Project

ON_SCRATCH = """FROM {builder} AS build
WORKDIR /app
COPY . .
RUN RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --offline --target x86_64-unknown-linux-gnu

FROM scratch
COPY --from=build /app/target/x86_64-unknown-linux-gnu/release/{name} /usr/local/bin/{name}
{extra}
"""


def scratch_crate(project: Project, name: str, extra: str) -> None:
    crate = project.fresh(name)
    (crate / "Dockerfile").write_text(ON_SCRATCH.format(builder=LOCAL_BUILDER, name=name, extra=extra))
    binary = f'"/usr/local/bin/{name}"'  # a shell-form CMD names no binary the plugin could find
    project.set_metadata(crate, strategy='"dockerfile"', expect_stdout='"hello 0.1.0"', binary_path=binary)


def engine_run(engine: str, tag: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [engine, "run", "--rm", "--network=none", tag, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def outcome(out: str, name: str, check: str, variant: str) -> str:
    item = f"{name}/Cargo.toml::{check}[{variant}] "
    words = {word for line in out.splitlines() if line.startswith(item) for word in line.split()}
    return "PASSED" if "PASSED" in words else "FAILED" if "FAILED" in words else "?"


def test_needs_fails_on_what_the_image_lacks_and_the_binary_agrees(project: Project) -> None:
    project.copy("needs")
    scratch_crate(project, "shellform", "CMD /usr/local/bin/shellform --version")
    scratch_crate(project, "nouser", 'USER app\nENTRYPOINT ["/usr/local/bin/nouser"]')
    report = project.path / "report.json"
    args = ("--rust-image-engine=all", "--rust-image-checks=build,runs,needs", "-v", f"--rust-image-report={report}")
    result = project.run("needs", "shellform", "nouser", *args)
    out = result.stdout.str()
    for engine in ENGINE_NAMES:
        static, own = f"static-{engine}", f"dockerfile-{engine}"
        assert [outcome(out, "needs", check, static) for check in ("build", "runs", "needs")] == [
            "PASSED",
            "PASSED",
            "FAILED",
        ], out
        assert {outcome(out, "needs", check, own) for check in ("build", "runs", "needs")} == {"PASSED"}, out
        assert outcome(out, "shellform", "needs", own) == "FAILED", out
        assert outcome(out, "shellform", "runs", own) == "PASSED", out  # the checked binary itself runs
        assert outcome(out, "nouser", "needs", own) == "FAILED", out
        assert outcome(out, "nouser", "runs", own) == "FAILED", out  # the engine refuses the user
    result.assert_outcomes(passed=16, failed=8)  # 4 images of needs, 2 of the others, 3 checks each
    # what the failures say: the need, its evidence, where it was looked for, the fix
    assert "needs what the image lacks: CA certificates, time zones" in out, out
    assert "the binary names SSL_CERT_FILE and /etc/ssl/certs/ca-certificates.crt" in out, out
    assert "looked for: /etc/ssl/certs/ca-certificates.crt" in out and "apt-get install ca-certificates" in out, out
    assert "the binary names /usr/share/zoneinfo" in out and "apt-get install tzdata" in out, out
    # the static image is the plugin's: where its files could come from
    assert "  where: the static strategy ships the binary alone on scratch: bundle them in the binary" in out, out
    assert "CMD is in shell form: /bin/sh -c /usr/local/bin/shellform --version" in out, out
    assert "looked for: app in /etc/passwd (not found)" in out and "USER 65534:65534" in out, out
    records = {(r["crate"], r["strategy"], r["engine"]): r for r in json.loads(report.read_text())["images"]}
    for engine in ENGINE_NAMES:
        on_scratch = {n["kind"]: n for n in records[("needs", "static", engine)]["needs"]}
        on_runtime = {n["kind"]: n for n in records[("needs", "dockerfile", engine)]["needs"]}
        assert set(on_runtime) == {"CA certificates", "time zones"}, on_runtime
        assert set(on_scratch) == {"CA certificates", "time zones", "user"}, on_scratch  # static: USER 65532:65532
        assert on_scratch["CA certificates"]["found_at"] is None and on_scratch["time zones"]["found_at"] is None
        assert on_scratch["user"]["found_at"] == "the numeric ids", on_scratch  # listed, satisfied
        assert on_runtime["CA certificates"]["found_at"] == "/etc/ssl/certs/ca-certificates.crt", on_runtime
        assert on_runtime["time zones"]["found_at"] == "/usr/share/zoneinfo", on_runtime
        _the_binaries_agree(engine, records)


def _the_binaries_agree(engine: str, records: dict[tuple[str, str, str], dict[str, object]]) -> None:
    """Each failure is real: the binary errors without the file, and works where the image has it."""
    scratch, runtime = (str(records[("needs", s, engine)]["tag"]) for s in ("static", "dockerfile"))
    roots = engine_run(engine, scratch, "roots")
    assert roots.returncode == 1 and "no CA certificates found" in roots.stderr, roots
    tz = engine_run(engine, scratch, "tz", "Europe/Paris")
    assert tz.returncode == 1 and "time zone Europe/Paris not found" in tz.stderr, tz
    assert engine_run(engine, runtime, "roots").stdout.endswith(" CA certificates\n")
    assert engine_run(engine, runtime, "tz", "Europe/Paris").stdout.startswith("Europe/Paris: offset +0")
    shell = engine_run(engine, str(records[("shellform", "dockerfile", engine)]["tag"]))
    assert shell.returncode != 0 and "/bin/sh" in shell.stderr, shell
    user = engine_run(engine, str(records[("nouser", "dockerfile", engine)]["tag"]))
    assert user.returncode != 0 and "unable to find user app" in user.stderr, user
