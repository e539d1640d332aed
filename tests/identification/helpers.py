"""Worker files and imports for the identification tests (small files; the big ones are the benchmark's)."""

from datetime import date

from assist import idnumber
from assist.extensions import db
from assist.identification import operations, samples

AREA_A = "330482001001"
AREA_B = "330482002001"
_sequence = iter(range(500, 1_000_000))


def new_id(born: date = date(1975, 6, 1), region: str = "330482") -> str:
    """A new valid number born on ``born``: three digits of sequence per region, so a long run moves on to the next
    county code (the whole suite asks for more than a thousand)."""
    n = next(_sequence)
    county = (int(region[4:]) + n // 1000) % 100
    return idnumber.make(f"{region[:4]}{county:02d}", born, n % 1000)


def row(
    name: str = "周建国",
    id_number: str | None = None,
    area: str = AREA_A,
    income: str = "800",
    size: str = "2",
    health: str = "健康",
    ability: str = "具备",
    phone: str = "13800000001",
    employer: str = "平湖某厂",
) -> list[str]:
    """One standard-template row (the ten contract columns); the default is a candidate (income under the line)."""
    return [name, id_number or new_id(), phone, area, employer, size, income, health, ability, "民政"]


def csv_file(rows: list[list], encoding: str = "utf-8") -> bytes:
    return samples.to_csv(rows, encoding=encoding, headers=samples.STANDARD_HEADERS[: len(rows[0])])


def import_file(actor, content: bytes, filename: str = "workers.csv", source: str = "civil_affairs"):
    """Upload and run an import to the end, as the background worker would."""
    imp, created = operations.create_import(actor, content, filename, source)
    db.session.commit()
    if created and imp.status.value == "queued":
        operations.run_import(imp.id)
    db.session.expire_all()
    return db.session.get(type(imp), imp.id)


def queued_import_file(tmp_path, rows: int = 300):
    """A standard-template CSV of ``rows`` workers on disk and its import, queued and committed, with the test's session
    closed (no transaction, and on SQLite no lock, held while another process works the import): (path, import id)."""
    data = samples.worker_rows(rows, areas=(AREA_A, AREA_B), extras=False)
    path = tmp_path / "workers.csv"
    path.write_bytes(samples.to_csv(data, headers=samples.STANDARD_HEADERS))
    imp, _created = operations.create_import(None, path.read_bytes(), path.name, "other")
    db.session.commit()
    imp_id = imp.id
    db.session.remove()
    return path, imp_id


def matrix_ids(world) -> dict:
    """An import by cw_a in town A and a candidate from it (for the permission matrix)."""
    from sqlalchemy import select

    from assist.identification.models import Candidate

    imp = import_file(world.cw_a, csv_file([row(), row(name="吴芳", id_number="123")]))
    candidate = db.session.scalar(select(Candidate).order_by(Candidate.id))
    return {"import_id": imp.id, "candidate_id": candidate.id}
