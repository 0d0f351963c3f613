"""The command line's work outside pytest runs: local base images and pruning old images.

``base_images`` makes the builder and runtime images from Debian's packages (``python -m
pytest_rustimage bases``); ``prune`` removes the plugin's old images and leftovers (``python -m
pytest_rustimage prune``), and ``prune_mounts`` the ``incremental`` strategy's cache mounts with
``--cache-mounts``. It may import the foundation modules and ``engines``; nothing that builds or
checks crates. ``prune`` and ``prune_mounts`` take an engine as an ``EngineStore``; ``base_images``,
which looks images up and copies them from engine to engine, as an ``EngineAndStore``.
"""
