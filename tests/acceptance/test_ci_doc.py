"""docs/ci.md, run: the shell commands of its GitHub Actions workflow and GitLab CI file, in order, on a
git repository holding a copy of ``sample_crates/server`` (tests/ci_doc.py reads them from the page).

Each job starts from a fresh clone of that repository, as a runner's checkout does. The GitHub
``image`` job runs first with an empty cache folder; each GitLab job starts with the cache folder the
job before it left (as the runner's cache restores it), so their cache verdicts are reused, not
measured again; then the ``baseline`` job records the sizes and pushes its branch to the repository's
remote. What differs on this machine: no registry (the local base images, ``-o rust_image_bases=local``)
and build containers that cannot reach crates.io (``-o rust_image_vendor=true``), both given through
``PYTEST_ADDOPTS`` so that no command of the page is changed for them; the lines listed in
``tests/ci_doc.py``'s ``STANDS_IN``; and the GitLab service's address, which is this machine's engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests import ci_doc
from tests.acceptance.project import SAMPLES
from tests.report_schema import validate_report

HERE = "-p no:cacheprovider -o rust_image_bases=local -o rust_image_vendor=true"
CHECKS = ("build", "runs", "size", "linkage", "needs", "cache", "sbom")


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True)
    return done.stdout


def checkout(origin: Path, where: Path) -> Path:
    """A fresh clone of the repository, as actions/checkout and GitLab's runner make one."""
    subprocess.run(["git", "clone", "-q", str(origin), str(where)], check=True)
    return where


def run_job(scripts: list[ci_doc.Script], folder: Path, env: dict[str, str]) -> str:
    """Run a job's scripts in ``folder`` (``bash -e``, as both services' default shells stop at the first
    failing command); a script marked ``always`` runs after a failure too. Returns the output, failing
    the test after the job when a script failed."""
    output, failed = [], []
    for script in scripts:
        if failed and not script.always:
            continue
        done = subprocess.run(
            ["bash", "-e", "-c", script.text],
            cwd=folder,
            env={**env, **script.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=1800,
        )
        output.append(f"== {script.job}: {script.name} (exit {done.returncode})\n{done.stdout}")
        if done.returncode:
            failed.append(script.name)
    text = "\n".join(output)
    assert not failed, f"{failed} failed:\n{text}"
    return text


def passed(out: str, check: str, variant: str) -> bool:
    return f"Cargo.toml::{check}[{variant}] PASSED" in out


def test_the_ci_page_runs_here(tmp_path: Path, base_images: None) -> None:
    github, gitlab = ci_doc.page()
    repo = tmp_path / "work"
    shutil.copytree(SAMPLES / "server", repo, ignore=shutil.ignore_patterns("target"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "the crate")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(origin)], check=True)

    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    values = {
        "runner.temp": str(runner_temp),
        "github.run_id": "1",
        "github.ref_name": "main",
        "github.token": "not-a-token",
    }
    env = {key: value for key, value in os.environ.items() if key not in ci_doc.SERVICE_VARIABLES}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        "PYTEST_ADDOPTS": HERE,
        "RUNNER_TEMP": str(runner_temp),
        "RUST_IMAGE_CACHE_DIR": str(tmp_path / "home-cache"),  # a job that does not move it: not the user's
    }
    used: set[str] = set()

    # GitHub: the image job, with an empty cache folder
    image = ci_doc.stand_in(ci_doc.github_scripts(github, "image", values), used)
    out = run_job(image, checkout(origin, tmp_path / "github-image"), env)
    for engine in ("docker", "podman"):
        for check in CHECKS:
            assert passed(out, check, f"chef-{engine}"), (check, engine, out)
    assert "Cargo.toml::parity[chef] PASSED" in out, out
    uploads = [step for step in github["jobs"]["image"]["steps"] if "upload-artifact" in step.get("uses", "")]
    reports = Path(ci_doc.expand(uploads[0]["with"]["path"], values))
    records = validate_report(reports / "rust-image.json")["images"]
    assert {record["engine"] for record in records} == {"docker", "podman"}, records
    boms = sorted((reports / "sbom").glob("*.json"))
    assert len(boms) == 2 and all(json.loads(bom.read_text())["components"] for bom in boms), boms
    assert (reports / "rust-image.html").is_file() and (reports / "junit.xml").is_file()
    kept = runner_temp / "rust-image-cache"
    assert (kept / "verdicts").is_dir(), sorted(p.name for p in kept.iterdir())

    # GitLab: each job restores the cache folder the job before it saved, and saves it again
    for job, engine in (("rust-image-docker", "docker"), ("rust-image-podman", "podman")):
        folder = checkout(origin, tmp_path / job)
        shutil.copytree(kept, folder / ".rust-image-cache")
        scripts = ci_doc.stand_in(ci_doc.gitlab_scripts(gitlab, job), used)
        container_tmp = tmp_path / f"{job}-tmp"  # the job container's /tmp: one of this test's own
        container_tmp.mkdir()
        for script in scripts:
            for key in ci_doc.SERVICE_VARIABLES:  # the dind service's address: here, this machine's engine
                if engine == "docker":
                    script.env.pop(key)
            for key, value in script.env.items():
                if value.startswith("/tmp/"):
                    here = str(container_tmp / value.removeprefix("/tmp/"))
                    script.env[key], script.text = here, script.text.replace(value, here)
        local = Path(scripts[0].env["RUST_IMAGE_CACHE_DIR"])
        assert local.parent == container_tmp, local
        out = run_job(scripts, folder, env)
        for check in CHECKS:
            assert passed(out, check, f"chef-{engine}"), (job, check, out)
        assert "inputs unchanged, reporting the verdict of" in out, out  # the kept verdict, no probe build
        assert "rust-image: building server (chef" not in out, out  # the GitHub job's image, reused
        assert not local.exists() and (folder / ".rust-image-cache" / "verdicts").is_dir()  # saved again
        merged = ci_doc._merged(gitlab, job)
        for path in [*merged["artifacts"]["paths"], merged["artifacts"]["reports"]["junit"]]:
            assert (folder / path).exists(), (job, path)
        kept = folder / ".rust-image-cache"

    # GitHub: the baseline job records the sizes and pushes a branch for the pull request
    baseline = ci_doc.stand_in(ci_doc.github_scripts(github, "baseline", values), used)
    out = run_job(baseline, checkout(origin, tmp_path / "github-baseline"), env)
    assert "rust-image-baseline-1" in git(origin, "branch", "--list"), out
    recorded = json.loads(git(origin, "show", "rust-image-baseline-1:rust-image-baseline.json"))
    assert set(recorded["images"]) == {"server/chef/docker", "server/chef/podman"}, recorded
    assert used == set(ci_doc.STANDS_IN), set(ci_doc.STANDS_IN) - used
