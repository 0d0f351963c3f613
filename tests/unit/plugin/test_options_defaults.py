"""The default tolerances are written once, in the report modules; the ini keys' defaults are theirs."""

from __future__ import annotations

from pytest_rustimage.plugin.options import INI
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.report import baseline, parity
from pytest_rustimage.units import parse_size, parse_tolerance

DEFAULTS = {name: default for name, _kind, _help, default in INI}


def test_the_ini_defaults_read_back_as_the_report_modules_tolerances() -> None:
    assert parse_tolerance(DEFAULTS["rust_image_size_tolerance"]) == baseline.DEFAULT_RELATIVE == 0.05
    assert parse_size(DEFAULTS["rust_image_size_tolerance_floor"]) == baseline.DEFAULT_ABSOLUTE == 512 * 1024
    assert parse_tolerance(DEFAULTS["rust_image_parity_tolerance"]) == parity.DEFAULT_TOLERANCE == 0.01


def test_the_default_settings_use_them() -> None:
    settings = Settings()
    assert settings.size_tolerance == baseline.Tolerance(baseline.DEFAULT_RELATIVE, baseline.DEFAULT_ABSOLUTE)
    assert settings.parity_tolerance == parity.DEFAULT_TOLERANCE
