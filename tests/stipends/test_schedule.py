"""Stipend generation runs every night: a month's records from the 1st, and the late months (补发) of an agreement
signed or entered after its batch was approved from the next night on, not a month later."""

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from jobs import JOBS

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_generation_runs_the_night_after_a_late_agreement_not_on_the_next_first():
    (job,) = [job for job in JOBS if job.id == "stipend-generation"]
    trigger = CronTrigger(timezone=SHANGHAI, **job.args)
    entered = datetime(2026, 12, 7, 15, 0, tzinfo=SHANGHAI)  # a paper agreement entered on the 7th
    assert trigger.get_next_fire_time(None, entered) == datetime(2026, 12, 8, 2, 0, tzinfo=SHANGHAI)
    new_year = datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)
    assert trigger.get_next_fire_time(None, new_year) == datetime(2027, 1, 1, 2, 0, tzinfo=SHANGHAI)
