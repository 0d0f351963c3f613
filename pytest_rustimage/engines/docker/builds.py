"""Docker's builds: through the ``docker`` CLI that can do BuildKit (:mod:`.cli`), else the legacy builder."""

from __future__ import annotations

from collections.abc import Mapping

from pytest_rustimage.engines.common import run_build
from pytest_rustimage.engines.docker.connection import DockerConnection
from pytest_rustimage.engines.protocol import BuildOutput, BuildRequest, LineSink
from pytest_rustimage.errors import BuildFailed


class DockerBuilds(DockerConnection):
    """:class:`~pytest_rustimage.engines.protocol.BuildApi` on Docker."""

    @property
    def builder(self) -> str:
        return "legacy" if self._get_cli().mode == "legacy" else "buildkit"

    def cache_mounts_missing(self) -> str | None:
        cli = self._get_cli()
        if cli.mode != "legacy":
            return None
        return (
            f"the legacy Docker builder has no cache mounts (the docker CLI {cli.path} has neither buildx nor "
            "DOCKER_BUILDKIT support): install the buildx plugin, or put a docker CLI older than 23 first on PATH"
        )

    def build(self, request: BuildRequest, on_line: LineSink | None = None) -> BuildOutput:
        cli = self._get_cli()
        env = self._env()
        if cli.mode == "legacy":
            env.pop("DOCKER_BUILDKIT")
        if request.secrets and cli.mode == "legacy":
            raise BuildFailed(
                f"secret build args ({', '.join(sorted(request.secrets))}) need BuildKit, and the docker CLI "
                f"{cli.path} has neither buildx nor DOCKER_BUILDKIT support; install the buildx plugin",
                "",
            )
        return run_build(
            "docker build",
            request,
            lambda iidfile, secrets: cli.build_command(request, iidfile, secrets),
            env=env,
            on_line=on_line,
        )

    def remove_build_leftovers(self, labels: Mapping[str, str]) -> int:
        # BuildKit keeps stages in its own cache, not as images; the legacy builder's
        # intermediate images are its layer cache. Nothing to remove.
        return 0
