"""The schedule: one declarative list of jobs, run by ``assist scheduler`` in its own process (Asia/Shanghai)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    id: str
    func: str
    trigger: str
    #: APScheduler trigger arguments
    args: dict = field(default_factory=dict)
    description: str = ""


JOBS = [
    Job(
        "database-statistics",
        "jobs.tasks:database_statistics",
        "cron",
        {"hour": 4, "minute": 30},
        "Refresh the database planner statistics, so lists and searches keep using their indexes",
    ),
    Job(
        "exit-candidates",
        "jobs.tasks:exit_candidates",
        "cron",
        {"day": 1, "hour": 3, "minute": 0},
        "Flag families above the line for N months as exit (脱困) candidates",
    ),
    # identification (issue 5)
    Job(
        "worker-imports",
        "jobs.tasks:worker_imports",
        "interval",
        {"minutes": 1},
        "Work queued worker imports, and resume those whose worker stopped (a restart loses none)",
    ),
]
