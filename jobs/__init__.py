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
        "stipend-generation",
        "jobs.tasks:generate_stipends",
        "cron",
        {"hour": 2, "minute": 0},
        # nightly, not only on the 1st: an agreement signed or a paper one entered after its months' batches were
        # approved is paid (补发) in the next open batch from the next night on, not a month later
        "Generate last month's stipend records and catch up any month missed before it, late months included",
    ),
    Job(
        "reminders",
        "jobs.tasks:send_reminders",
        "cron",
        {"hour": 8, "minute": 0},
        "Remind caseworkers of reviews due, everyone of agreements ending in 30 days, sponsors of unpaid stipends",
    ),
    Job(
        "database-statistics",
        "jobs.tasks:database_statistics",
        "cron",
        {"hour": 4, "minute": 30},
        "Prune old login attempts and expired API tokens; refresh the database planner statistics, so lists and "
        "searches keep using their indexes",
    ),
    Job(
        "exit-candidates",
        "jobs.tasks:exit_candidates",
        "cron",
        {"day": 1, "hour": 3, "minute": 0},
        "Flag families above the line for N months as exit (脱困) candidates",
    ),
    # posts and agreements (issue 3, demo/CLI/jobs part)
    Job(
        "claim-expiry",
        "jobs.tasks:claim_expiry",
        "cron",
        {"hour": 0, "minute": 20},
        "Return unsigned claims past their reservation to the market; lapse unanswered offers",
    ),
    Job(
        "agreement-advance",
        "jobs.tasks:agreement_advance",
        "cron",
        {"hour": 0, "minute": 10},
        "Start agreements whose start date came and end those whose last day passed, with their posts",
    ),
    # identification (issue 5)
    Job(
        "worker-imports",
        "jobs.tasks:worker_imports",
        "interval",
        {"minutes": 1},
        "Work queued worker imports, and resume those whose worker stopped (a restart loses none)",
    ),
    Job(
        "import-originals",
        "jobs.tasks:delete_import_originals",
        "cron",
        {"hour": 3, "minute": 40},
        "Delete the original files (and rejected rows as they were) of imports finished IMPORT_ORIGINAL_DAYS ago",
    ),
]
