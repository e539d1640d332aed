"""What work in a process of its own can count on."""

import os


def cores() -> int:
    """The cores this process may run on (all of the machine's where the system does not say, as on macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
