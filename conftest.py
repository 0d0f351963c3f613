"""Project-wide pytest configuration: pytester for the acceptance tests, and Podman's settings.

Podman on this project's machines needs runc and low default ulimits (see .ci/containers.conf and
docs/engines.md); the project's own runs use that file unless CONTAINERS_CONF says otherwise.
"""

import os
from pathlib import Path

os.environ.setdefault("CONTAINERS_CONF", str(Path(__file__).parent / ".ci" / "containers.conf"))

pytest_plugins = ["pytester"]
