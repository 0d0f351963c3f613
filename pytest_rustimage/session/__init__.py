"""The session's images: built or reused once, measured, run and served.

The session's engines (``pool``), the build-or-reuse path (``factory``), the
:class:`~pytest_rustimage.session.image.RustImage` tests receive (``image``), measuring it
(``measure``), long-running services (``services``) and their testcontainers container
(``testcontainer``, imported only when asked for), the Debian package that gives a missing library
(``packages``) and what a failed pull means (``pulls``). It may import the foundation modules,
``crate``, ``inspect``, ``engines``, ``recipe`` and ``cachecheck``; never ``report``,
``housekeeping``, ``checks`` or the pytest glue.
"""
