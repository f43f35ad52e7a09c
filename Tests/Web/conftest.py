"""pytest fixtures of Tests/Web: defined in webrig.py (importable by the tests and by bench_app.py)."""

from webrig import browser, proven_rig, rig  # noqa: F401  (fixtures)
