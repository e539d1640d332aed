"""Benchmarks of active identification (issue 5): importing and screening 100,000 worker rows from CSV and from XLSX,
each beside the floor of merely parsing the same file with the same reader, and the peak memory of an import.

Each timed run imports the file as a new import (upload checks, parsing, row checks, encryption and blind index,
screening, linking, batched writes and the candidate queue, every batch committed), wall clock from the upload to the
import's end; then the import and its rows are deleted again, untimed, so every sample starts alike.
"""

import os
import resource
import time
import tracemalloc

from bench.__main__ import Case

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))


class RowsCase(Case):
    """A case in rows per second (higher is better)."""

    def shown(self, seconds: float) -> str:
        return f"{seconds:.2f} s ({self.rows / seconds:,.0f} rows/s)"

    def aim(self) -> str:
        parts = [] if self.aim_ratio is None else [f"≤ {self.aim_ratio:g}×"]
        if self.aim_abs is not None:
            parts.append(f"≥ {self.aim_abs:,.0f} rows/s")
        return ", ".join(parts)


def _files(rows: int) -> dict[str, bytes]:
    from assist.identification import samples

    data = samples.worker_rows(rows, seed=99, first_sequence=2_000_000)
    return {"csv": samples.to_csv(data), "xlsx": samples.to_xlsx(data)}


def _forget(imp_id: int) -> None:
    from sqlalchemy import delete

    from assist.extensions import db
    from assist.identification.models import Candidate, ImportedPerson, ImportReject, WorkerImport

    people = ImportedPerson.__table__
    db.session.execute(
        delete(Candidate).where(Candidate.person_id.in_(db.select(people.c.id).where(people.c.import_id == imp_id)))
    )
    db.session.execute(delete(ImportReject).where(ImportReject.import_id == imp_id))
    db.session.execute(delete(ImportedPerson).where(ImportedPerson.import_id == imp_id))
    db.session.execute(delete(WorkerImport).where(WorkerImport.id == imp_id))
    db.session.commit()


def _forget_leftovers(app, files: dict[str, bytes]) -> None:
    """Imports of these files left by a bench run that was stopped midway (a file imported before is not imported
    again: the second upload would find the first)."""
    import hashlib

    from sqlalchemy import select

    from assist.extensions import db
    from assist.identification.models import WorkerImport

    with app.app_context():
        digests = [hashlib.sha256(content).hexdigest() for content in files.values()]
        for imp_id in db.session.scalars(select(WorkerImport.id).where(WorkerImport.sha256.in_(digests))).all():
            _forget(imp_id)


def _import_once(app, content: bytes, name: str, counts: list) -> None:
    """Upload and run one import; its rows are deleted afterwards, outside the time taken."""
    from assist.extensions import db
    from assist.identification import operations

    started, cpu, child_cpu = time.perf_counter(), time.process_time(), _children_cpu()
    with app.app_context():
        imp, _created = operations.create_import(None, content, name, "other")
        db.session.commit()
        done = operations.run_import(imp.id)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        # CPU seconds of this process too: on a shared, loaded machine wall time says more about the neighbours; and
        # of the process that checked the rows of a large file (counted once it has ended, which run_import waits for)
        child_cpu = _children_cpu() - child_cpu
        counts.append(
            (done.status.value, done.rows, done.imported, done.rejected, done.candidates, cpu, wall, child_cpu)
        )
        _forget(imp.id)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _alternately(app, content: bytes, file_format: str, repeat: int, counts: list) -> tuple[list, list]:
    """Samples of the import (wall clock, upload to done, the clean-up not counted) and of the parse floor, taken
    alternately so that load from elsewhere on the machine falls on both alike."""
    samples: tuple[list, list] = ([], [])
    for _ in range(repeat):
        _import_once(app, content, f"bench.{file_format}", counts)
        samples[0].append(counts[-1][6])
        started = time.perf_counter()
        _parse_once(content, file_format)
        samples[1].append(time.perf_counter() - started)
    return samples


def _parse_once(content: bytes, file_format: str) -> None:
    from collections import deque

    from assist.identification import reader

    encoding = reader.decode(content)[1] if file_format == "csv" else ""
    deque(reader.rows(content, file_format, encoding), maxlen=0)


def _peak_mb(app, content: bytes, name: str) -> float:
    """Peak Python memory of one import (tracemalloc; a separate, untimed run)."""
    tracemalloc.start()
    try:
        _import_once(app, content, name, [])
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def import_cases(app, repeat: int = 3) -> list[Case]:
    """(f) CSV and (g) XLSX import + screening of ROWS rows."""
    started = time.perf_counter()
    files = _files(ROWS)
    print(f"identification: {ROWS:,} rows written as CSV and XLSX in {time.perf_counter() - started:.1f} s")
    _forget_leftovers(app, files)
    cases = []
    for label, file_format, aim_abs in (("(f)", "csv", 10_000), ("(g)", "xlsx", None)):
        content, counts = files[file_format], []
        samples, floor = _alternately(app, content, file_format, repeat, counts)
        case = RowsCase(
            f"{label} import + screen {ROWS:,} rows, {file_format.upper()}",
            "rows/s",
            samples,
            floor,
            aim_ratio=3,
            aim_abs=aim_abs,
            floor_is=f"the same reader merely parsing the same {file_format.upper()} file",
            rows=ROWS,
        )
        status, rows, imported, rejected, candidates, _cpu, _wall, _child = counts[0]
        case.notes.append(f"{status}: rows {rows}, imported {imported}, rejected {rejected}, candidates {candidates}")
        cpu = sorted(c[5] for c in counts)[len(counts) // 2]
        child = sorted(c[7] for c in counts)[len(counts) // 2]
        case.notes.append(
            f"CPU time per import: this process {cpu:.2f} s, its checking process {child:.2f} s"
            f" ({ROWS / (cpu + child):,.0f} rows per CPU second of both)"
        )
        case.notes.append(
            f"file {len(content) / 2**20:.1f} MB; peak Python memory {_peak_mb(app, content, 'peak.' + file_format):.0f} MB"
            " (of this process; not the checking process's)"
        )
        if status != "done" or rows != ROWS:
            case.notes.append("MISMATCH: the import did not read every row")
        cases.append(case)
    return cases
