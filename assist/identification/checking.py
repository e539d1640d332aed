"""Reading and checking an import's rows ahead of the writer: in a thread of the importing process, or, for a large
file, in a process of its own on another core.

Either way the batches come out in file order, each as (last row number, people, rejects, full): the people as
tuples of PERSON_KEYS ready to write (JSON encoded; not yet linked to a family file, which the writer looks up), the
rejects as tuples of REJECT_KEYS. The writer alone touches the database. This module imports nothing of the app's
database layer, so a checking process starts quickly.
"""

import gc
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
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
    "birth_year",
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
REJECT_KEYS = ("import_id", "row_number", "problems", "raw_cipher")
#: positions in a person's tuple that the writer reads
ROW, ID_INDEX, SCORE = (PERSON_KEYS.index(k) for k in ("row_number", "id_index", "score"))
_checked_values = itemgetter(*PERSON_KEYS[: -len(LINK_KEYS) - 1])

#: a file with at least this many rows to check is checked in a process of its own (when there is a core for it)
PROCESS_MIN_ROWS = 20_000


def _people(persons: list[dict], ctx: columns.RowContext, import_id: int) -> list[tuple]:
    dumps = orjson.dumps
    unlinked = (import_id, None, None, False)
    people = []
    as_text = ctx.dates_as_text
    for p in persons:
        p["reasons"] = dumps(p["reasons"]).decode()
        if as_text and p["accident_on"] is not None:
            p["accident_on"] = p["accident_on"].isoformat()
        people.append(_checked_values(p) + unlinked)
    return people


def _rejects(rejected: list[tuple[int, list, list]], import_id: int, ctx: columns.RowContext) -> list[tuple]:
    """The rejected rows to write; each row as it was is encrypted (it may hold a full ID number)."""
    dumps = orjson.dumps
    raws = ctx.encrypt_many([dumps([_raw(c) for c in cells]).decode() for _number, cells, _problems in rejected])
    return [
        (import_id, number, dumps(problems).decode(), raw)
        for (number, _cells, problems), raw in zip(rejected, raws, strict=True)
    ]


def checked_batches(source: tuple, ctx: columns.RowContext, batch: int, import_id: int, share=None):
    """The rows of ``source`` (content, format, encoding, the last row done) checked batch by batch, each as (last row
    number, people, rejects, full).

    A first batch of a large size is only a slice long, so the writer starts on it while the rest is checked.
    With ``share`` (a :class:`Share`), only every n-th batch is checked here, the others by other processes.
    """
    chunk: list[tuple[int, list]] = []
    size = min(batch, SLICE)
    number = 0
    for row in reader.rows(*source):
        chunk.append(row)
        if len(chunk) >= size:
            if share is None or share.mine(number):
                yield _checked(chunk, ctx, import_id, True, share, number)
            chunk, size, number = [], batch, number + 1
    if chunk and (share is None or share.mine(number)):
        yield _checked(chunk, ctx, import_id, False, share, number)


#: rows checked at a time within a batch: a larger batch is checked a slice at a time (each phase of check_rows then
#: finds its slice's objects still in the CPU's caches; 100,000 rows checked 10,000 at a time took 15% longer)
SLICE = 2_000


def _checked(chunk: list[tuple[int, list]], ctx, import_id: int, full: bool, share, number: int) -> tuple:
    """One batch checked a slice at a time. Alone, each slice is prepared and settled in turn; sharing the file, every
    slice is prepared first (the costly part, at the same time as the other processes' batches), then all are settled
    in file order once the ID numbers of the batches before this one are known."""
    slices = [chunk[start : start + SLICE] for start in range(0, len(chunk), SLICE)]
    prepared = None
    if share is not None:
        prepared = [columns.prepare_rows(rows, ctx) for rows in slices]
        share.wait_for_batches_before(number, ctx.seen)
    people: list[tuple] = []
    rejects: list[tuple] = []
    for i, rows in enumerate(slices):
        prep = prepared[i] if prepared is not None else columns.prepare_rows(rows, ctx)
        persons, rejected = columns.settle_rows(rows, prep, ctx)
        people += _people(persons, ctx, import_id)
        rejects += _rejects(rejected, import_id, ctx)
    return chunk[-1][0], people, rejects, full


def _raw(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)[: reader.MAX_CELL]


#: at most this many checking processes share a CSV file
MAX_CHECKERS = 4


def read_ahead(source: tuple, ctx: columns.RowContext, batch: int, import_id: int, rows: int, processes: bool = True):
    """The checked batches of the file (about ``rows`` rows still to check), read in processes of their own when they
    are many and the machine has another core (and ``processes`` allows it), else in a thread. A context manager.

    A CSV file is parsed in a fraction of the time its rows take to check, so each core but the writer's gets a checking
    process that reads the whole file and checks every n-th batch; an XLSX file costs more to parse than to check, and
    one process reads it.
    """
    available = cores()
    if processes and rows >= PROCESS_MIN_ROWS and available > 1:
        # one core for the writer (with SQLite, also the database's work; PostgreSQL's may share the machine)
        parts = max(1, min(available - 1, MAX_CHECKERS)) if source[1] == "csv" else 1
        return CheckingProcess(source, ctx, batch, import_id, parts)
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
    """The batches checked in processes of their own: the checks, encryption and screening then run on other cores
    while this process writes.

    Each process is a fresh interpreter (not a fork, and not multiprocessing's spawn, which would run the importing
    program's main script again): it inherits no threads, connections or locks, only two pipes, one bringing it the
    job (and, when several share the file, the ID numbers of the others' batches) and one taking its batches back.
    With ``parts`` processes, process k checks batches k, k + parts, …; the writer reads them in file order and tells
    the others each batch's ID numbers, which they need to find duplicates. A process works at most one batch ahead
    (it sends a batch when the writer reads the one before) and ends with the file, when the writer stops early (it
    is terminated), or when the writer's process dies (its pipes close).
    """

    def __init__(self, source: tuple, ctx, batch: int, import_id: int, parts: int = 1):
        self.job = (source, ctx, batch, import_id)
        self.parts = parts
        self.full_last = False
        self.processes: list[subprocess.Popen] = []
        self.receivers: list[Connection] = []
        #: to each process, when several share the file: the ID numbers of the batches the others checked
        self.news: list[Connection | None] = []

    def __enter__(self):
        try:
            for part in range(self.parts):
                self._start(part)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self, part: int) -> None:
        job_r, job_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            self.receivers.append(Connection(out_r, writable=False))
            job = Connection(job_w, readable=False)
            self.news.append(job if self.parts > 1 else None)
            self.processes.append(
                subprocess.Popen(  # noqa: S603 (this interpreter and a fixed script)
                    [sys.executable, "-c", _SERVE, str(job_r), str(out_w)],
                    pass_fds=(job_r, out_w),
                    stdin=subprocess.DEVNULL,
                    env={
                        **os.environ,
                        "PYTHONPATH": os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH")))),
                    },
                    # out of the terminal's process group: an interrupt reaches the writer, which ends the process
                    start_new_session=True,
                )
            )
        finally:
            # the child's ends: with none left here, the child's death is an end of file and a closed pipe
            os.close(job_r)
            os.close(out_w)
        job.send((*self.job, part, self.parts))
        if self.parts == 1:
            job.close()

    def __exit__(self, *exc_info):
        # a process still sending gets a broken pipe, one waiting for news an end of file: either stops
        for connection in (*self.receivers, *self.news):
            if connection is not None:
                connection.close()
        deadline = time.monotonic() + 2
        for process in self.processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return False

    def __iter__(self):
        number = 0
        while True:
            part = number % self.parts
            try:
                kind, item = self.receivers[part].recv()
            except EOFError:
                code = self.processes[part].poll()
                raise RuntimeError(f"the import's checking process ended without a word (exit code {code})") from None
            if kind == "batch":
                self.full_last = item[3]
                if self.parts > 1:
                    self._tell_the_others(part, number, item[1])
                number += 1
                yield item[:3]
            elif kind == "refused":
                raise reader.FileRefused(item)
            elif kind == "error":
                raise RuntimeError(f"the import's checking process failed:\n{item}")
            else:
                return

    def _tell_the_others(self, part: int, number: int, people: list[tuple]) -> None:
        news = pickle.dumps((number, [(p[ID_INDEX], p[ROW]) for p in people]), pickle.HIGHEST_PROTOCOL)
        for other, connection in enumerate(self.news):
            if other != part and connection is not None:
                try:
                    connection.send_bytes(news)
                except OSError:  # that process has ended (its batches are all checked): it needs no more news
                    connection.close()
                    self.news[other] = None


class WriterGone(Exception):
    """The importing process closed the pipe a checking process waited on."""


class Share:
    """A checking process's share of the file: the batches whose number is ``part`` modulo ``parts``. The ID numbers
    of the other batches arrive from the writer, in file order, as it reads them; a thread takes them off the pipe
    (so the writer never waits on a busy process) and the checking thread merges them when it needs them."""

    def __init__(self, part: int, parts: int, news: Connection):
        self.part, self.parts = part, parts
        #: every batch before this number is known: checked here, or its ID numbers merged
        self.known = 0
        self.arrived: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._listen, args=(news,), name="import-news", daemon=True).start()

    def mine(self, number: int) -> bool:
        return number % self.parts == self.part

    def _listen(self, news: Connection) -> None:
        try:
            while True:
                self.arrived.put(news.recv())
        except (EOFError, OSError):
            self.arrived.put(None)

    def wait_for_batches_before(self, number: int, seen: dict[str, int]) -> None:
        """Merge into ``seen`` the ID numbers of every other process's batch before batch ``number``."""
        while True:
            while self.known < number and self.mine(self.known):
                self.known += 1
            if self.known >= number:
                return
            news = self.arrived.get()
            if news is None:
                raise WriterGone
            done, pairs = news
            seen.update(pairs)
            self.known = done + 1


#: the checking process's collector thresholds (Python's default is 700, 10, 10)
GC_THRESHOLDS = (100_000, 20, 20)

#: where the assist package lives, for the checking process to import it from
_ROOT = str(Path(__file__).resolve().parents[2])
_SERVE = "import sys; from assist.identification.checking import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"


def serve(job_fd: int, out_fd: int) -> None:
    """The checking process: the job read from one pipe (which then brings the news of the other processes' batches,
    if any), each batch sent on the other as it is checked, then the end (or what went wrong)."""
    # the checks allocate a few objects per cell and free them all again: the cyclic collector, run every 700
    # allocations, found nothing to collect and took a fifth of the time (measured); it still runs, far less often
    gc.set_threshold(*GC_THRESHOLDS)
    job = Connection(job_fd, writable=False)
    source, ctx, batch, import_id, part, parts = job.recv()
    share = Share(part, parts, job) if parts > 1 else None
    if share is None:
        job.close()
    sender = Connection(out_fd, readable=False)
    try:
        try:
            for checked in checked_batches(source, ctx, batch, import_id, share):
                sender.send(("batch", checked))
            sender.send(("end", None))
        except reader.FileRefused as exc:
            sender.send(("refused", exc.message))
        except (BrokenPipeError, ConnectionResetError, WriterGone):
            raise
        except BaseException:
            sender.send(("error", traceback.format_exc()))
    except (BrokenPipeError, ConnectionResetError, WriterGone):
        pass  # the writer is gone or has stopped reading: nobody to tell
    finally:
        sender.close()
