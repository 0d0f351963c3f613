"""Recipes: what an image is made of and how it is built, as pure data and files.

The strategies as a table whose rows hold their Dockerfile templates (``strategies``, the templates
written in ``dockerfile``, below it), the :class:`~pytest_rustimage.recipe.spec.ImageSpec`
settings resolve to (``spec``), the build
context and the digest of every input (``context``, kept in place by ``tree``), vendoring
(``vendored``, ``cargo_config``), reading a Dockerfile's instructions (``instructions``), OCI labels
(``oci``) and the one :class:`~pytest_rustimage.engines.protocol.BuildRequest` a spec's build asks for
(``request``). It may import the foundation modules, ``crate``, ``inspect`` and ``engines``; never
``cachecheck``, ``session``, ``report``, ``housekeeping``, ``checks`` or the pytest glue.
"""
