"""Parsing raw engine ``inspect`` output and measured archives into frozen facts."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_rustimage.engines.protocol import RunResult
from pytest_rustimage.inspect.archive import ArchiveFacts, ArchiveLayer
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.facts import (
    BinaryFacts,
    ImageConfig,
    Layer,
    image_config_from_inspect,
    image_info,
)
from pytest_rustimage.names import normalise_id

IMAGE_ID = "sha256:5b1e0c6f1c9d2a7e4b3f8a6d0c2e9f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e"

# Shaped like `docker image inspect` of a chef-strategy image.
INSPECT = {
    "Id": IMAGE_ID,
    "RepoTags": ["pytest-rustimage/hello:chef-abc123", "pytest-rustimage/hello:latest"],
    "RepoDigests": [],
    "Created": "2024-11-25T13:20:01.123456789Z",
    "Architecture": "amd64",
    "Os": "linux",
    "Size": 80_123_456,
    "Config": {
        "Hostname": "",
        "User": "65532:65532",
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "RUST_LOG=info,hyper=warn",
            "EMPTY=",
            "NOEQUALS",
        ],
        "Cmd": None,
        "Entrypoint": ["/usr/local/bin/hello"],
        "WorkingDir": "",
        "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}, "53/udp": {}},
        "Labels": {"org.opencontainers.image.source": "https://example.invalid/hello"},
        "OnBuild": None,
    },
    "RootFS": {
        "Type": "layers",
        "Layers": [
            "sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "sha256:2222222222222222222222222222222222222222222222222222222222222222",
        ],
    },
}

# What pytest_rustimage.inspect.archive measures for that image: every layer, oldest first.
ARCHIVE = ArchiveFacts(
    layers=(
        ArchiveLayer(diff_id="sha256:1111", size=74_800_000, created_by="/bin/sh -c #(nop) ADD file:abc in /"),
        ArchiveLayer(diff_id="sha256:2222", size=0, created_by="WORKDIR /app"),
        ArchiveLayer(
            diff_id="sha256:3333", size=4_321_000, created_by="COPY /rust-image-out/hello /usr/local/bin/hello"
        ),
    ),
    config={},
)


def test_image_info_keeps_every_layer_in_order() -> None:
    info = image_info(INSPECT, ARCHIVE)
    assert info.layers == (
        Layer(74_800_000, "/bin/sh -c #(nop) ADD file:abc in /", "sha256:1111"),
        Layer(0, "WORKDIR /app", "sha256:2222"),
        Layer(4_321_000, "COPY /rust-image-out/hello /usr/local/bin/hello", "sha256:3333"),
    )
    assert info.layer_count == 3


def test_image_size_is_the_measured_sum_not_the_engines_size_field() -> None:
    info = image_info(INSPECT, ARCHIVE)
    assert info.size == 74_800_000 + 4_321_000
    assert info.size != INSPECT["Size"]


def test_ids_and_tags() -> None:
    info = image_info(INSPECT, ARCHIVE)
    assert info.id == IMAGE_ID
    assert info.tags == ("pytest-rustimage/hello:chef-abc123", "pytest-rustimage/hello:latest")
    podman_style = image_info({"Id": "5b1e0c", "RepoTags": None}, ArchiveFacts((), {}))
    assert podman_style.id == "sha256:5b1e0c"  # Podman writes ids without the prefix
    assert podman_style.tags == () and podman_style.size == 0 and podman_style.layer_count == 0
    assert normalise_id("sha256:ab") == "sha256:ab"


def test_missing_fields() -> None:
    info = image_info({"Id": "sha256:0"}, ArchiveFacts((), {}))
    assert info.config == ImageConfig(user="", entrypoint=(), cmd=(), env={}, workdir="/", exposed_ports=(), labels={})


def test_image_config() -> None:
    config = image_info(INSPECT, ARCHIVE).config
    assert config == image_config_from_inspect(INSPECT)
    assert config.user == "65532:65532"
    assert config.entrypoint == ("/usr/local/bin/hello",)
    assert config.cmd == ()
    assert config.env == {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "RUST_LOG": "info,hyper=warn",
        "EMPTY": "",
        "NOEQUALS": "",
    }
    assert config.workdir == "/"  # Docker writes "/" and Podman "" for the same thing
    assert config.exposed_ports == ("443/tcp", "53/udp", "8080/tcp")
    assert config.labels == {"org.opencontainers.image.source": "https://example.invalid/hello"}


def test_image_config_variants() -> None:
    config = image_config_from_inspect(
        {
            "Config": {
                "User": None,
                "Entrypoint": None,
                "Cmd": ["serve", "--port", "8080"],
                "Env": None,
                "WorkingDir": "/app",
                "ExposedPorts": None,
                "Labels": None,
            }
        }
    )
    assert config == ImageConfig(
        user="",
        entrypoint=(),
        cmd=("serve", "--port", "8080"),
        env={},
        workdir="/app",
        exposed_ports=(),
        labels={},
    )
    # a string entrypoint is one element, not a tuple of characters
    assert image_config_from_inspect({"Config": {"Entrypoint": "/bin/app"}}).entrypoint == ("/bin/app",)
    assert image_config_from_inspect({"Config": None}).entrypoint == ()


def test_later_env_entry_wins() -> None:
    config = image_config_from_inspect({"Config": {"Env": ["A=1", "A=2"]}})
    assert config.env == {"A": "2"}


def test_image_info_is_frozen() -> None:
    info = image_info(INSPECT, ARCHIVE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.size = 1  # type: ignore[misc]


def test_run_result_describe() -> None:
    result = RunResult(
        command=("/usr/local/bin/hello", "--version"),
        exit_code=3,
        stdout="hello 0.1.0\n\n",
        stderr="warning: x\n",
        duration=0.25,
    )
    assert result.describe() == (
        "command: /usr/local/bin/hello --version\nexit code: 3\n--- stdout ---\nhello 0.1.0\n--- stderr ---\nwarning: x"
    )


def test_run_result_describe_empty_output() -> None:
    result = RunResult(command=(), exit_code=0, stdout="", stderr="", duration=0.0)
    assert result.describe() == "command: \nexit code: 0\n--- stdout ---\n\n--- stderr ---\n"


@pytest.mark.parametrize(
    ("linkage", "is_static"),
    [("static", True), ("static-pie", True), ("dynamic", False)],
)
def test_binary_facts_delegate_to_elf(linkage: str, is_static: bool) -> None:
    elf = ElfFacts(
        machine="x86_64",
        elf_type="ET_DYN",
        linkage=linkage,  # type: ignore[arg-type]
        interpreter="/lib64/ld-linux-x86-64.so.2" if linkage == "dynamic" else None,
        needed=("libc.so.6",) if linkage == "dynamic" else (),
        libc="glibc",
        stripped=False,
        build_id=None,
    )
    facts = BinaryFacts(name="hello", path="/usr/local/bin/hello", size=10, sha256="0" * 64, elf=elf)
    assert facts.linkage == linkage
    assert facts.is_static is is_static
    assert facts.interpreter == elf.interpreter
    assert facts.needed == elf.needed
    assert facts.libc == "glibc"
