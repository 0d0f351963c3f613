"""OCI labels: URLs without credentials, the created time's sources, manifest fields, git facts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.recipe.oci import (
    CREATED,
    DESCRIPTION,
    LICENSES,
    REVISION,
    SOURCE,
    TITLE,
    VERSION,
    GitFacts,
    crate_labels,
    git_facts,
    labels,
    public_url,
    rfc3339,
    source_date_epoch,
)

SECRET = "s3cret-token"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
GIT = GitFacts(commit=COMMIT, commit_time=1_700_000_000, origin="git@github.com:team/app.git")
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/team/app", "https://github.com/team/app"),
        ("git@github.com:team/app.git", "https://github.com/team/app.git"),
        (f"https://user:{SECRET}@git.example.com/team/app.git", "https://git.example.com/team/app.git"),
        (
            f"https://{SECRET}@git.example.com:8443/app.git?private_token={SECRET}#x",
            "https://git.example.com:8443/app.git",
        ),
        (f"https://oauth2:{SECRET}@gitlab.com/a/b.git", "https://gitlab.com/a/b.git"),
        (f"https://user:pa%40{SECRET}@host/x", "https://host/x"),
        (f"https://user:pa@{SECRET}@host/x", "https://host/x"),  # an unescaped @ in the password
        (f"user:{SECRET}@host.example:team/app.git", "https://host.example/team/app.git"),
        ("ssh://git@host.example:2222/team/app.git", "https://host.example/team/app.git"),
        ("git+ssh://git@host.example/team/app.git", "https://host.example/team/app.git"),
        ("git://host.example/app", "https://host.example/app"),
        ("http://host.example/app", "http://host.example/app"),
        ("https://[2001:db8::1]:3000/app", "https://[2001:db8::1]:3000/app"),
        ("file:///srv/git/app.git", None),
        ("/srv/git/app.git", None),
        ("../app", None),
        ("~/src/app", None),
        ("C:\\src\\app", None),
        ("", None),
        ("https://", None),
        ("https://host:notaport/x", None),
    ],
)
def test_public_url(url: str, expected: str | None) -> None:
    assert public_url(url) == expected


def test_labels_from_the_manifest_and_git() -> None:
    package = {
        "name": "app",
        "version": "1.2.3",
        "license": "MIT OR Apache-2.0",
        "description": "  An app\n  that serves.  ",
        "repository": "https://github.com/team/app",
    }
    assert labels(package, {}, GIT, epoch=None, now=NOW) == {
        TITLE: "app",
        VERSION: "1.2.3",
        LICENSES: "MIT OR Apache-2.0",
        DESCRIPTION: "An app that serves.",
        SOURCE: "https://github.com/team/app",  # the manifest's repository wins over origin
        REVISION: COMMIT,
        CREATED: "2023-11-14T22:13:20Z",  # the commit's time
    }


def test_origin_stands_in_for_a_missing_repository_without_credentials() -> None:
    git = GitFacts(COMMIT, 1_700_000_000, f"https://ci:{SECRET}@git.example.com/team/app.git")
    found = labels({"name": "app"}, {}, git, epoch=None, now=NOW)
    assert found[SOURCE] == "https://git.example.com/team/app.git"
    assert not any(SECRET in value for value in found.values())


def test_a_repository_with_credentials_is_cleaned_too() -> None:
    found = labels({"name": "app", "repository": f"https://u:{SECRET}@h.example/app"}, {}, None, epoch=None, now=NOW)
    assert found[SOURCE] == "https://h.example/app"


def test_a_local_origin_gives_no_source() -> None:
    git = GitFacts(COMMIT, 1_700_000_000, "/home/me/src/app")
    assert SOURCE not in labels({"name": "app"}, {}, git, epoch=None, now=NOW)


def test_created_prefers_source_date_epoch_then_the_commit_then_now() -> None:
    assert labels({}, {}, GIT, epoch=86_400, now=NOW)[CREATED] == "1970-01-02T00:00:00Z"
    assert labels({}, {}, GIT, epoch=None, now=NOW)[CREATED] == rfc3339(GIT.commit_time)
    outside_git = labels({"name": "app"}, {}, None, epoch=None, now=NOW)
    assert outside_git == {TITLE: "app", CREATED: "2027-01-15T08:00:00Z"}


def test_fields_inherited_from_the_workspace() -> None:
    package = {"name": "member", "version": {"workspace": True}, "license": {"workspace": True}}
    workspace = {"version": "2.0.0", "license": "MIT", "repository": "https://github.com/team/ws"}
    found = labels(package, workspace, None, epoch=None, now=NOW)
    assert (found[VERSION], found[LICENSES]) == ("2.0.0", "MIT")
    assert SOURCE not in found  # the package did not inherit repository


def test_odd_field_values_are_left_out() -> None:
    found = labels({"name": "app", "license": "", "description": 3, "version": ["1"]}, {}, None, epoch=None, now=NOW)
    assert set(found) == {TITLE, CREATED}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), (" ", None), ("0", 0), (" 1700000000\n", 1_700_000_000)]
)
def test_source_date_epoch(value: str | None, expected: int | None) -> None:
    assert source_date_epoch(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "-1", "1.5", "1e9"])
def test_a_bad_source_date_epoch_is_an_error(value: str) -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH must be a whole number"):
        source_date_epoch(value)


# ---- git, for real


def _git(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    return subprocess.run([*base, *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture
def crate_in_git(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "app"\nversion = "0.3.0"\nedition = "2021"\nlicense = "MIT"\n')
    (root / "src" / "main.rs").write_text("fn main() {}\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    env = {"GIT_COMMITTER_DATE": "@1700000000 +0000", "GIT_AUTHOR_DATE": "@1600000000 +0000", "PATH": "/usr/bin:/bin"}
    _git(root, "commit", "-q", "-m", "init", env=env)
    _git(root, "remote", "add", "origin", f"https://bot:{SECRET}@git.example.com/team/app.git")
    return root


def test_git_facts_of_a_real_repository(crate_in_git: Path) -> None:
    facts = git_facts(crate_in_git / "src")
    assert facts == GitFacts(
        commit=_git(crate_in_git, "rev-parse", "HEAD"),
        commit_time=1_700_000_000,  # the committer's time, not the author's
        origin=f"https://bot:{SECRET}@git.example.com/team/app.git",
    )


def test_no_git_facts_outside_a_repository_or_before_the_first_commit(tmp_path: Path) -> None:
    assert git_facts(tmp_path) is None
    _git(tmp_path, "init", "-q")
    assert git_facts(tmp_path) is None


def test_crate_labels_put_it_together(crate_in_git: Path) -> None:
    crate = read_crate(crate_in_git, use_cargo=False)
    found = crate_labels(crate, "app", env={}, now=NOW)
    assert found == {
        TITLE: "app",
        VERSION: "0.3.0",
        LICENSES: "MIT",
        SOURCE: "https://git.example.com/team/app.git",
        REVISION: _git(crate_in_git, "rev-parse", "HEAD"),
        CREATED: "2023-11-14T22:13:20Z",
    }
    assert crate_labels(crate, "app", env={"SOURCE_DATE_EPOCH": "0"}, now=NOW)[CREATED] == "1970-01-01T00:00:00Z"
    with pytest.raises(ConfigError):
        crate_labels(crate, "app", env={"SOURCE_DATE_EPOCH": "soon"}, now=NOW)
