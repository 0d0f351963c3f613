"""The project's benchmark (``python3 benchmarks/run.py``): see ``docs/benchmarks.md``.

What the plugin costs beside a build by hand, all in one run on one machine, medians of N runs each,
wall-clock seconds of whole commands: host ``cargo build --release`` (the floor), the background
chapter's naive and cargo-chef recipes built by hand with the engine's CLI, and ``pytest --rust-image``
on a copy of the crate, cold, warm and after a source-only edit, per strategy.

The modules, pure ones first (``tests/unit/benchmarks/test_bench.py`` tests them):

- ``measurements``: the measurement keys and their words, medians, the ratios and their targets;
- ``recipes``: the hand-written recipes (Dockerfiles) and the sources they copy;
- ``manifest``: the texts written into the crate's copies (renamed manifest and lock, metadata, edit);
- ``report``: the table and the JSON;
- ``timing``: running commands, timed or not, and the load;
- ``engine_cli``: the engine's CLI for the hand recipes, and the machine's facts;
- ``crates``: the crate's metadata, and the real crates fetched from crates.io;
- ``copies``: the crate's copies under fresh package names, and the clean-up of what they made;
- ``runner``: the measuring, run by run;
- ``cli``: the command line (``run.py`` calls its ``main``).

Every copy of the crate gets a package name of its own (``rib-RUNID-N-NAME``, the binary keeps its name):
the plugin's images of that copy are its own (``prune --crate`` then touches nothing of anyone else's),
and a cold run finds nothing in any cache of a previous run, without emptying the engine's shared build
cache.
"""
