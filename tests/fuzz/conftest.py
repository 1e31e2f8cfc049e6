"""Hypothesis profiles of the fuzz suite; the modules apply them per test (the global default is untouched).

``fuzz-ci`` (the default) is reproducible: examples derive from each test's source, no example
database is read or written, and a failure prints the blob that replays it (``@reproduce_failure``).
``HUB_FUZZ_PROFILE=fuzz-deep`` explores randomly with ten times the examples, for a developer's run.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

SLOW_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
               HealthCheck.filter_too_much]

settings.register_profile("fuzz-ci", derandomize=True, database=None, print_blob=True, deadline=None,
                          suppress_health_check=SLOW_CHECKS)
settings.register_profile("fuzz-deep", derandomize=False, database=None, print_blob=True, deadline=None,
                          suppress_health_check=SLOW_CHECKS)
