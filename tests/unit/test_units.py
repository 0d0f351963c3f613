"""parse_size and format_size: exact byte counts, refusals and short human forms; parse_tolerance."""

from __future__ import annotations

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.units import format_size, parse_size, parse_tolerance


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("25MiB", 25 * 1024 * 1024),
        ("1.5 MB", 1_500_000),
        ("1500000", 1_500_000),
        (1_500_000, 1_500_000),
        ("0", 0),
        (0, 0),
        ("10 kB", 10_000),
        ("2GiB", 2 * 1024**3),
        ("1GB", 1_000_000_000),
        ("3KiB", 3072),
        ("1.5KiB", 1536),
        ("7B", 7),
        ("7 b", 7),
        ("  42  ", 42),
        ("25mib", 25 * 1024 * 1024),
        ("2.5 gb", 2_500_000_000),
    ],
)
def test_parse_size_reads(value: str | int, expected: int) -> None:
    assert parse_size(value) == expected


def test_parse_size_returns_int() -> None:
    assert type(parse_size("1.5 MB")) is int
    assert type(parse_size(10)) is int


@pytest.mark.parametrize("value", ["25M", "10k", "abc", "-1", "", "   ", "1.5.3MB", "MB", "1,5MB", "12 parsecs"])
def test_parse_size_refuses_strings(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(value, what="budget-label")
    message = str(info.value)
    assert message.startswith("budget-label: ")
    assert repr(value) in message
    # the refusal tells what is accepted
    assert "MiB" in message
    assert "kB" in message


@pytest.mark.parametrize("value", ["9" * 400, "1" * 5000 + " GiB"])
def test_parse_size_refuses_sizes_too_large_to_count(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(value, what="max-size")
    assert str(info.value) == (
        f"max-size: {value[:37] + '...'!r} is too large to be a size; write a number of bytes that fits"
    )


@pytest.mark.parametrize("value", [True, False])
def test_parse_size_refuses_bools(value: bool) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(value, what="max-size of hello")
    assert str(info.value) == f"max-size of hello: expected a size such as '25MiB', got {value!r}"


def test_parse_size_refuses_negative_int() -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(-5, what="neg")
    assert str(info.value) == "neg: a size cannot be negative (-5)"


def test_parse_size_default_label() -> None:
    with pytest.raises(ConfigError) as info:
        parse_size("25M")
    assert str(info.value).startswith("size: ")


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (25 * 1024 * 1024, "25.0 MiB"),
        (1_500_000, "1.4 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (2048 * 1024**3, "2048.0 GiB"),
        (-5, "-5 B"),
    ],
)
def test_format_size(n: int, expected: str) -> None:
    assert format_size(n) == expected


def test_format_size_rounds_into_the_next_unit() -> None:
    assert format_size(1024 * 1024 - 1) == "1.0 MiB"


@pytest.mark.parametrize(("text", "value"), [("1%", 0.01), ("0.5%", 0.005), ("0.02", 0.02), (0.03, 0.03), ("0", 0.0)])
def test_parse_tolerance(text: str | float, value: float) -> None:
    assert parse_tolerance(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["one", "150%", "-1%", "1", "%"])
def test_parse_tolerance_refuses(text: str) -> None:
    with pytest.raises(ConfigError, match="parity tolerance"):
        parse_tolerance(text, what="parity tolerance")
