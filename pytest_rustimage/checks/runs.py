"""``runs``: the binary runs in its image with the crate's arguments, exits as expected, says what is expected."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_rustimage.checks.base import Check, CheckFailed, Context, Needs, Properties
from pytest_rustimage.session.image import RustImage


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    spec = image.spec
    result = image.run(*spec.args)
    problems = []
    if result.exit_code != spec.expect_exit_code:
        problems.append(f"exit code {result.exit_code}, expected {spec.expect_exit_code}")
    if spec.expect_stdout is not None and spec.expect_stdout not in result.stdout:
        problems.append(f"stdout does not contain {spec.expect_stdout!r}")
    if problems:
        raise CheckFailed(f"{image.binary_path} in {image.tag}: {'; '.join(problems)}\n{result.describe()}")
    said = f"exit {result.exit_code} in {result.duration:.2f}s: {result.stdout.strip()[:200]}"
    properties.append(("rust_image_runs", said))


RUNS = Check(
    name="runs",
    needs=Needs.IMAGE,
    run=run,
    about="a container of the image runs the binary with `args`: exit code and stdout as expected",
    metadata_keys=("args", "expect-exit-code", "expect-stdout", "run-timeout"),
)
