"""Parsing raw engine ``inspect``/``history`` output into frozen facts."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_rustimage.elf import ElfFacts
from pytest_rustimage.facts import (
    BinaryFacts,
    ImageConfig,
    Layer,
    RunResult,
    image_config_from_inspect,
    image_info_from_inspect,
)

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

# `docker image history` (API form): newest first, metadata-only steps have Size 0.
HISTORY = [
    {
        "Id": IMAGE_ID,
        "Created": 1732540801,
        "CreatedBy": 'ENTRYPOINT ["/usr/local/bin/hello"]',
        "Tags": ["pytest-rustimage/hello:chef-abc123"],
        "Size": 0,
        "Comment": "buildkit.dockerfile.v0",
    },
    {
        "Id": "<missing>",
        "Created": 1732540801,
        "CreatedBy": "USER 65532:65532",
        "Tags": None,
        "Size": 0,
        "Comment": "buildkit.dockerfile.v0",
    },
    {
        "Id": "<missing>",
        "Created": 1732540800,
        "CreatedBy": "COPY /rust-image-out/hello /usr/local/bin/hello # buildkit  ",
        "Tags": None,
        "Size": 4_321_000,
        "Comment": "buildkit.dockerfile.v0",
    },
    {
        "Id": "<missing>",
        "Created": 1731888000,
        "CreatedBy": '/bin/sh -c #(nop)  CMD ["bash"]',
        "Tags": None,
        "Size": 0,
        "Comment": "",
    },
    {
        "Id": "<missing>",
        "Created": 1731888000,
        "CreatedBy": "/bin/sh -c #(nop) ADD file:abc in / ",
        "Tags": None,
        "Size": 74_800_000,
        "Comment": "",
    },
]


def test_image_info_layers_oldest_first_non_empty() -> None:
    info = image_info_from_inspect(INSPECT, HISTORY)
    assert info.layers == (
        Layer(size=74_800_000, created_by="/bin/sh -c #(nop) ADD file:abc in /"),
        Layer(size=4_321_000, created_by="COPY /rust-image-out/hello /usr/local/bin/hello # buildkit"),
    )
    assert info.size == 79_121_000
    assert info.layer_count == 2
    assert info.id == IMAGE_ID
    assert info.tags == ("pytest-rustimage/hello:chef-abc123", "pytest-rustimage/hello:latest")


def test_image_size_is_the_sum_of_history_not_inspect_size() -> None:
    info = image_info_from_inspect(INSPECT, HISTORY)
    assert info.size == sum(entry["Size"] for entry in HISTORY)
    assert info.size != INSPECT["Size"]


def test_layer_count_comes_from_rootfs() -> None:
    inspect = {**INSPECT, "RootFS": {"Type": "layers", "Layers": ["sha256:a", "sha256:b", "sha256:c"]}}
    assert image_info_from_inspect(inspect, HISTORY).layer_count == 3
    assert image_info_from_inspect({**INSPECT, "RootFS": None}, HISTORY).layer_count == 0
    assert image_info_from_inspect({"Id": "x"}, []).layer_count == 0


def test_empty_history_and_missing_fields() -> None:
    info = image_info_from_inspect({"Id": "sha256:0"}, [{"Size": None}, {}, {"Size": 0, "CreatedBy": "x"}])
    assert info.layers == ()
    assert info.size == 0
    assert info.tags == ()
    assert info.config == ImageConfig(user="", entrypoint=(), cmd=(), env={}, workdir="", exposed_ports=(), labels={})


def test_scratch_image_history() -> None:
    history = [
        {"CreatedBy": 'ENTRYPOINT ["/usr/local/bin/hello"]', "Size": 0},
        {"CreatedBy": "USER 65532:65532", "Size": 0},
        {"CreatedBy": "COPY /rust-image-out/hello /usr/local/bin/hello # buildkit", "Size": 512_000},
    ]
    inspect = {"Id": "sha256:s", "RepoTags": None, "RootFS": {"Layers": ["sha256:only"]}}
    info = image_info_from_inspect(inspect, history)
    assert info.layers == (Layer(512_000, "COPY /rust-image-out/hello /usr/local/bin/hello # buildkit"),)
    assert info.size == 512_000
    assert info.layer_count == 1
    assert info.tags == ()


def test_image_config() -> None:
    config = image_info_from_inspect(INSPECT, HISTORY).config
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
    assert config.workdir == ""
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
    info = image_info_from_inspect(INSPECT, HISTORY)
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
