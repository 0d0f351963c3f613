"""The shell commands of docs/ci.md, as the CI services would run them: read from the page's two YAML
blocks (a GitHub Actions workflow and a GitLab CI file), in the order each job runs them.

What cannot run on this machine (installing from the package index, ``apk``/``dnf``, ``gh``) is
replaced by a command named in :data:`STANDS_IN`, each with the reason; a replacement the page no
longer needs is an error too, so the table and the page move together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PAGE = Path(__file__).resolve().parents[1] / "docs" / "ci.md"

# command on the page -> (what runs here instead, why)
STANDS_IN: dict[str, tuple[str, str]] = {
    "pip install pytest-rustimage": ("true", "the plugin is installed from this checkout by .ci/setup"),
    "pip install --break-system-packages pytest-rustimage": ("true", "installed from this checkout"),
    "apk add --no-cache python3 py3-pip cargo": ("true", "the docker:27 image is Alpine; this host has them"),
    "dnf install -y --setopt=install_weak_deps=False python3-pip cargo": ("true", "Fedora's; this host has them"),
    'gh pr create --fill --base "main"': (
        'git ls-remote --exit-code origin "refs/heads/$(git branch --show-current)"',
        "no GitHub here: the branch must have reached the remote the pull request is opened from",
    ),
}
# GitLab variables that name the service's network; here the machine's own engine answers
SERVICE_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_CERTDIR")


@dataclass
class Script:
    """One shell script of a job: a GitHub ``run`` step, or a GitLab job's ``before_script`` with its
    ``script`` (one shell) or its ``after_script`` (a shell of its own)."""

    job: str
    name: str
    text: str
    env: dict[str, str] = field(default_factory=dict)
    always: bool = False  # runs also when an earlier script failed


def yaml_blocks(text: str) -> list[Any]:
    """The ``yaml`` code blocks of a Markdown page, parsed."""
    return [yaml.safe_load(block) for block in re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)]


def expand(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``${{ expression }}`` replaced by its value here; an unknown one is an error."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression not in values:
            raise AssertionError(f"docs/ci.md uses ${{{{ {expression} }}}}, which the test has no value for")
        return values[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def github_scripts(workflow: Mapping[str, Any], job: str, values: Mapping[str, str]) -> list[Script]:
    """The ``run`` steps of a GitHub Actions job, expressions expanded."""
    scripts = []
    for number, step in enumerate(workflow["jobs"][job]["steps"], 1):
        if "run" not in step:
            continue
        env = {key: expand(str(value), values) for key, value in (step.get("env") or {}).items()}
        always = "always()" in str(step.get("if", ""))
        name = step.get("name", f"step {number}")
        scripts.append(Script(job, name, expand(step["run"], values), env, always))
    return scripts


def _merged(config: Mapping[str, Any], job: str) -> dict[str, Any]:
    """A GitLab job with what it ``extends`` (one level of templates, as the page uses), job keys winning."""
    own = dict(config[job])
    base = config.get(own.pop("extends", ""), {}) if isinstance(own.get("extends"), str) else {}
    return {**base, **own, "variables": {**base.get("variables", {}), **own.get("variables", {})}}


def gitlab_scripts(config: Mapping[str, Any], job: str) -> list[Script]:
    """A GitLab CI job's scripts: ``before_script`` and ``script`` in one shell, then ``after_script``
    (which GitLab runs whatever happened before), with the global and the job's variables."""
    merged = _merged(config, job)
    env = {**config.get("variables", {}), **merged["variables"]}
    env = {key: str(value) for key, value in env.items()}
    main = [*merged.get("before_script", []), *merged["script"]]
    scripts = [Script(job, "before_script + script", "\n".join(main), dict(env))]
    if merged.get("after_script"):
        scripts.append(Script(job, "after_script", "\n".join(merged["after_script"]), dict(env), always=True))
    return scripts


def stand_in(scripts: list[Script], used: set[str]) -> list[Script]:
    """``scripts`` with each line that is a key of :data:`STANDS_IN` replaced by what runs here
    (``used`` collects the keys replaced)."""
    out = []
    for script in scripts:
        lines = []
        for line in script.text.splitlines():
            command = line.strip()
            if command in STANDS_IN:
                used.add(command)
                line = line.replace(command, STANDS_IN[command][0])
            lines.append(line)
        out.append(Script(script.job, script.name, "\n".join(lines), script.env, script.always))
    return out


def page() -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's GitHub workflow and GitLab CI file."""
    blocks = yaml_blocks(PAGE.read_text())
    assert len(blocks) == 2, f"docs/ci.md: expected two yaml blocks (GitHub, GitLab), found {len(blocks)}"
    github, gitlab = blocks
    assert "jobs" in github and "jobs" not in gitlab, "docs/ci.md: the GitHub workflow comes first"
    return github, gitlab
