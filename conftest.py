"""Project-wide pytest configuration: pytester for the acceptance tests."""

pytest_plugins = ["pytester"]
