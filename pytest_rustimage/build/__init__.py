"""Making images: from an :class:`~pytest_rustimage.build.spec.ImageSpec` to a built (or reused) image.

What each strategy is (``strategies``), its Dockerfile (``dockerfile``), the build context and the
digest of every input (``context``), OCI labels (``oci``), the session's engines (``pool``), the
build-or-reuse path (``factory``), the :class:`~pytest_rustimage.build.image.RustImage` tests
receive (``image``), services (``services``), its testcontainers container (``testcontainer``,
imported only when asked for), and the layer-cache probe (``probe``) with its pure
verdict (``verdict``, ``buildlog``). It may import the foundation modules, ``crate``, ``inspect`` and
``engines``; never ``report``, ``housekeeping`` or the pytest glue.
"""
