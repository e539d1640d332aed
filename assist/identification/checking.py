"""Reading and checking an import's rows ahead of the writer: in a thread of the importing process, or, for a large
file, in a process of its own on another core.

Either way the batches come out in file order, each as (last row number, people, rejects, full): the people as
tuples of PERSON_KEYS ready to write (JSON encoded; not yet linked to a family file, which the writer looks up), the
rejects as tuples of REJECT_KEYS. The writer alone touches the database. This module imports nothing of the app's
database layer, so a checking process starts quickly.
"""

import os
import queue
import subprocess
import sys
import threading
import traceback
from datetime import date
from multiprocessing.connection import Connection
from operator import itemgetter
from pathlib import Path

import orjson

from assist.identification import columns, reader
from assist.processes import cores

#: the imported_persons columns a checked person is written with, in this order; the last three are the writer's
#: (member, family file and difference, found when the batch is written)
PERSON_KEYS = (
    "row_number",
    "name",
    "id_cipher",
    "id_index",
    "id_masked",
    "birth_date",
    "male",
    "phone",
    "area_id",
    "employer",
    "household_size",
    "income_fen",
    "medical_fen",
    "health",
    "work_ability",
    "identity_status",
    "dependants",
    "accident_on",
    "row_source",
    "score",
    "reasons",
    "import_id",
    "member_id",
    "family_id",
    "differs",
)
LINK_KEYS = ("member_id", "family_id", "differs")
REJECT_KEYS = ("import_id", "row_number", "problems", "raw")
#: positions in a person's tuple that the writer reads
ROW, ID_INDEX, SCORE = (PERSON_KEYS.index(k) for k in ("row_number", "id_index", "score"))
_checked_values = itemgetter(*PERSON_KEYS[: -len(LINK_KEYS) - 1])

#: a file with at least this many rows to check is checked in a process of its own (when there is a core for it)
PROCESS_MIN_ROWS = 20_000


def check_batch(chunk: list[tuple[int, list]], ctx: columns.RowContext, import_id: int, full: bool) -> tuple:
    """One batch of rows checked: (last row number, people, rejects, full)."""
    persons, rejected = columns.check_rows(chunk, ctx)
    dumps = orjson.dumps
    unlinked = (import_id, None, None, False)
    people = []
    as_text = ctx.dates_as_text
    for p in persons:
        p["reasons"] = dumps(p["reasons"]).decode()
        if as_text:
            p["birth_date"] = p["birth_date"].isoformat()
            if p["accident_on"] is not None:
                p["accident_on"] = p["accident_on"].isoformat()
        people.append(_checked_values(p) + unlinked)
    rejects = [
        (import_id, number, dumps(problems).decode(), dumps([_raw(c) for c in cells]).decode())
        for number, cells, problems in rejected
    ]
    return chunk[-1][0], people, rejects, full


def checked_batches(source: tuple, ctx: columns.RowContext, batch: int, import_id: int):
    """The rows of ``source`` (content, format, encoding, the last row done) checked batch by batch.

    A first batch of a large size is only a slice long, so the writer starts on it while the rest is checked.
    """
    chunk: list[tuple[int, list]] = []
    size = min(batch, SLICE)
    for row in reader.rows(*source):
        chunk.append(row)
        if len(chunk) >= size:
            yield _checked_in_slices(chunk, ctx, import_id, full=True)
            chunk, size = [], batch
    if chunk:
        yield _checked_in_slices(chunk, ctx, import_id, full=False)


#: rows checked at a time within a batch: a larger batch is checked a slice at a time (each phase of check_rows then
#: finds its slice's objects still in the CPU's caches; 100,000 rows checked 10,000 at a time took 15% longer)
SLICE = 2_000


def _checked_in_slices(chunk: list[tuple[int, list]], ctx, import_id: int, full: bool) -> tuple:
    people: list[tuple] = []
    rejects: list[tuple] = []
    for start in range(0, len(chunk), SLICE):
        _last, some_people, some_rejects, _full = check_batch(chunk[start : start + SLICE], ctx, import_id, full)
        people += some_people
        rejects += some_rejects
    return chunk[-1][0], people, rejects, full


def _raw(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)[: reader.MAX_CELL]


def read_ahead(source: tuple, ctx: columns.RowContext, batch: int, import_id: int, rows: int, processes: bool = True):
    """The checked batches of the file (about ``rows`` rows still to check), read in a process of its own when they are
    many and the machine has another core (and ``processes`` allows it), else in a thread. A context manager."""
    if processes and rows >= PROCESS_MIN_ROWS and cores() > 1:
        return CheckingProcess(source, ctx, batch, import_id)
    return ReadAhead(source, ctx, batch, import_id)


class ReadAhead:
    """The batches checked in a thread of their own, one or two ahead of the writer: reading and checking (Python)
    then overlap the writes, whose time in the database driver leaves the interpreter free. An error of the reader
    comes out where it happened in the file.
    """

    AHEAD = 2

    def __init__(self, source: tuple, ctx, batch: int, import_id: int):
        self.args = (source, ctx, batch, import_id)
        self.queue: queue.Queue = queue.Queue(maxsize=self.AHEAD)
        self.stop = threading.Event()
        #: the last batch was a full one (so the file may have ended exactly at a batch's end)
        self.full_last = False
        self.thread = threading.Thread(target=self._produce, name="import-reader", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join()
        return False

    def __iter__(self):
        while True:
            kind, item = self.queue.get()
            if kind == "batch":
                self.full_last = item[3]
                yield item[:3]
            elif kind == "error":
                raise item
            else:
                return

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for checked in checked_batches(*self.args):
                if not self._put(("batch", checked)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the writer's thread, which decides
            self._put(("error", exc))


class CheckingProcess:
    """The batches checked in a process of its own: the checks, encryption and screening then run on another core
    while this process writes.

    The process is a fresh interpreter (not a fork, and not multiprocessing's spawn, which would run the importing
    program's main script again): it inherits no threads, connections or locks, only two pipes, one bringing it the
    job and one taking the batches back. It works at most one batch ahead (it sends a batch when the writer reads the
    last one) and ends with the file, when the writer stops early (it is terminated), or when the writer's process
    dies (its next send finds the pipe closed).
    """

    def __init__(self, source: tuple, ctx, batch: int, import_id: int):
        self.job = (source, ctx, batch, import_id)
        self.full_last = False
        self.process: subprocess.Popen | None = None
        self.receiver: Connection | None = None

    def __enter__(self):
        job_r, job_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            self.receiver = Connection(out_r, writable=False)
            self.process = subprocess.Popen(  # noqa: S603 (this interpreter and a fixed script)
                [sys.executable, "-c", _SERVE, str(job_r), str(out_w)],
                pass_fds=(job_r, out_w),
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH"))))},
                # out of the terminal's process group: an interrupt reaches the writer, which ends the process
                start_new_session=True,
            )
        finally:
            # the child's ends: with none left here, the child's death is an end of file and a closed pipe
            os.close(job_r)
            os.close(out_w)
        try:
            with Connection(job_w, readable=False) as job:
                job.send(self.job)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        self.receiver.close()  # a child still sending gets a broken pipe and stops
        if self.process is not None:
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return False

    def __iter__(self):
        while True:
            try:
                kind, item = self.receiver.recv()
            except EOFError:
                code = self.process.poll()
                raise RuntimeError(f"the import's checking process ended without a word (exit code {code})") from None
            if kind == "batch":
                self.full_last = item[3]
                yield item[:3]
            elif kind == "refused":
                raise reader.FileRefused(item)
            elif kind == "error":
                raise RuntimeError(f"the import's checking process failed:\n{item}")
            else:
                return


#: where the assist package lives, for the checking process to import it from
_ROOT = str(Path(__file__).resolve().parents[2])
_SERVE = "import sys; from assist.identification.checking import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"


def serve(job_fd: int, out_fd: int) -> None:
    """The checking process: the job read from one pipe, each batch sent on the other as it is checked, then the end
    (or what went wrong)."""
    with Connection(job_fd, writable=False) as job:
        source, ctx, batch, import_id = job.recv()
    sender = Connection(out_fd, readable=False)
    try:
        try:
            for checked in checked_batches(source, ctx, batch, import_id):
                sender.send(("batch", checked))
            sender.send(("end", None))
        except reader.FileRefused as exc:
            sender.send(("refused", exc.message))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except BaseException:
            sender.send(("error", traceback.format_exc()))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the writer is gone or has stopped reading: nobody to tell
    finally:
        sender.close()
