"""Fixtures of the certificate tests (defined in `station.py`, shared with the bench UI test)."""

from tests.certificates.station import bench, bench_template  # noqa: F401
