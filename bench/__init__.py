"""Benchmarks at realistic scale (`make bench`): the family list, name search and batch reassessment, each beside a
floor measured in the same run. Timings live here, never in the unit tests."""
