"""Accounts: password hashing (argon2id), login with throttling, users, API tokens."""

import contextlib
import hashlib
import ipaddress
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func

from assist import audit, checks
from assist.areas.models import Area
from assist.auth.models import ApiToken, LoginAttempt, User
from assist.db_types import utcnow
from assist.enums import Role
from assist.errors import Conflict, DomainError, ValidationFailed
from assist.extensions import db

_hashers: dict[bool, PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    fast = bool(current_app.config.get("PASSWORD_HASHER_FAST"))
    if fast not in _hashers:
        # Tests use argon2id with small costs; everywhere else the library's recommended parameters.
        _hashers[fast] = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
    return _hashers[fast]


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """True when ``password`` matches; rehashes in place when the parameters have changed."""
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def validate_password(password: str) -> str | None:
    """Why the password is not acceptable, or None."""
    if len(password) < 8:
        return str(_l("A password has at least 8 characters."))
    if len(password) > 256:
        return str(_l("A password has at most 256 characters."))
    return None


class LoginLocked(DomainError):
    status = 429
    code = "too_many_attempts"


class LoginFailed(DomainError):
    status = 401
    code = "unauthorized"


_dummy_hashes: dict[bool, str] = {}


def _dummy_hash() -> str:
    """A hash no password matches, verified for unknown and deactivated names so that they cost what a real one does."""
    fast = bool(current_app.config.get("PASSWORD_HASHER_FAST"))
    if fast not in _dummy_hashes:
        _dummy_hashes[fast] = hash_password(secrets.token_urlsafe(32))
    return _dummy_hashes[fast]


def address_key(address: str) -> str:
    """The address a throttle counts: an IPv4 address, or the /64 network of an IPv6 one (one host holds a /64)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "").strip()[:64]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _locked(username: str, address: str, since) -> bool:
    """Too many recent failures: of this name from this address, from this address, or of this name from everywhere
    (that last one only for addresses the name never logged in from, so strangers cannot lock its owner out)."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    failed = (LoginAttempt.kind == "login") & LoginAttempt.success.is_(False) & (LoginAttempt.at >= since)
    by_pair, by_address, by_name = db.session.execute(
        db.select(
            func.count(case(((LoginAttempt.username == username) & (LoginAttempt.address == address), 1))),
            func.count(case((LoginAttempt.address == address, 1))),
            func.count(case((LoginAttempt.username == username, 1))),
        ).where(failed, (LoginAttempt.username == username) | (LoginAttempt.address == address))
    ).one()
    if by_pair >= limit or by_address >= 10 * limit:
        return True
    if by_name < 10 * limit:
        return False
    known = db.session.scalar(
        db.select(LoginAttempt.id)
        .where(
            LoginAttempt.kind == "login",
            LoginAttempt.success.is_(True),
            LoginAttempt.username == username,
            LoginAttempt.address == address,
        )
        .limit(1)
    )
    return known is None


def authenticate(username: str, password: str, address: str = "") -> User:
    """The user for these credentials (the login page and API tokens alike); every try is recorded.

    Every failure answers in the same words, after the same work (one password-hash verification, against a dummy
    hash for unknown and deactivated names), so neither tells which names exist. Failures are throttled per name and
    address together, so a stranger elsewhere cannot lock the owner out. The record lives in the database, so every
    web worker and every process counts the same failures.
    """
    username = (username or "").strip()[:60]
    address = address_key(address)
    cfg = current_app.config
    if _locked(username, address, utcnow() - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])):
        minutes = cfg["LOGIN_WINDOW_SECONDS"] // 60
        raise LoginLocked(str(_l("Too many failed logins. Try again in %(minutes)s minutes.", minutes=minutes)))
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is not None and user.active:
        ok = check_password(user, password or "")
    else:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher().verify(_dummy_hash(), password or "")
        ok = False
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    if not ok:
        raise LoginFailed(str(_l("Wrong user name or password.")))
    user.last_login_at = utcnow()
    audit.record(user, "login", "user", user.id, summary=username)
    return user


def check_name_probe(username, address: str) -> None:
    """Throttle what an anonymous registration tells about user names (its "user name taken"), per address.

    Past the limit the registration is refused before anything is said about the name; a name that is taken is
    recorded as one more probe (the caller commits it whatever the registration's outcome).
    """
    address = address_key(address)
    cfg = current_app.config
    since = utcnow() - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    probes = db.session.scalar(
        db.select(func.count(LoginAttempt.id)).where(
            LoginAttempt.kind == "register", LoginAttempt.address == address, LoginAttempt.at >= since
        )
    )
    if probes >= cfg["REGISTRATION_MAX_NAMES_TAKEN"]:
        minutes = cfg["LOGIN_WINDOW_SECONDS"] // 60
        raise LoginLocked(
            str(_l("Too many registrations from your address. Try again in %(minutes)s minutes.", minutes=minutes))
        )
    username = username.strip()[:60] if isinstance(username, str) else ""
    if username and db.session.scalar(db.select(User.id).where(User.username == username)):
        db.session.add(LoginAttempt(kind="register", username=username, address=address, success=False))


def prune_login_records() -> dict[str, int]:
    """Delete login attempts older than the days kept, and expired API tokens (the daily job; safe to run twice)."""
    now = utcnow()
    keep = timedelta(days=current_app.config["LOGIN_ATTEMPTS_KEEP_DAYS"])
    attempts = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - keep)).rowcount
    tokens = db.session.execute(delete(ApiToken).where(ApiToken.expires_at < now)).rowcount
    return {"login_attempts": attempts, "expired_tokens": tokens}


def _areas_by_code(codes: list[str]) -> list[Area]:
    areas = []
    for code in codes:
        area = db.session.scalar(db.select(Area).where(Area.code == code))
        if area is None:
            raise ValidationFailed(
                str(_l("Unknown area.")), {"areas": str(_l("No area has the code %(code)s.", code=code))}
            )
        areas.append(area)
    return areas


EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,120}\.[^@\s]{1,20}\Z")


def _user_snapshot(user: User) -> dict:
    snap = audit.snapshot(user, ("username", "display_name", "email", "role", "active", "sponsor_id"))
    snap["area_codes"] = [a.code for a in user.areas]
    return snap


def create_user(
    actor,
    username: str,
    password: str,
    role: Role | str,
    *,
    display_name: str = "",
    area_codes: list[str] | None = None,
    sponsor_id: int | None = None,
) -> User:
    """A new account; caseworkers need at least one area."""
    errors: dict[str, str] = {}
    username = (username or "").strip()
    if not username or len(username) > 60 or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = str(_l("A user name is 1–60 letters, digits, dots, dashes or underscores."))
    elif db.session.scalar(db.select(User.id).where(User.username == username)):
        raise Conflict(
            str(_l("The user name %(name)s is taken.", name=username)),
            {"username": str(_l("This user name is taken."))},
        )
    display_name = checks.text(errors, "display_name", display_name, 60)
    problem = validate_password(password or "")
    if problem:
        errors["password"] = problem
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = str(_l("Choose a role."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    areas = _areas_by_code(area_codes or [])
    if role == Role.CASEWORKER and not areas:
        raise ValidationFailed(
            str(_l("A caseworker needs at least one area.")), {"areas": str(_l("Choose at least one area."))}
        )
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        sponsor_id=sponsor_id,
        areas=areas,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "create", "user", user.id, after=_user_snapshot(user), summary=username)
    return user


def update_user(
    actor,
    user: User,
    *,
    display_name: str | None = None,
    role: Role | str | None = None,
    active: bool | None = None,
    area_codes: list[str] | None = None,
    password: str | None = None,
    email: str | None = None,
) -> User:
    """Change an account (audited); the admin cannot lock themselves out."""
    before = _user_snapshot(user)
    if role is not None:
        try:
            role = Role(role)
        except ValueError:
            raise ValidationFailed(str(_l("Choose a role.")), {"role": str(_l("Choose a role."))}) from None
    if actor is not None and actor.id == user.id and (active is False or (role is not None and role != user.role)):
        raise Conflict(str(_l("You cannot deactivate yourself or change your own role.")))
    if password:
        problem = validate_password(password)
        if problem:
            raise ValidationFailed(problem, {"password": problem})
        user.password_hash = hash_password(password)
        end_sessions(user)
    if display_name is not None:
        errors: dict[str, str] = {}
        display_name = checks.text(errors, "display_name", display_name, 60)
        if errors:
            raise ValidationFailed(errors["display_name"], errors)
        user.display_name = display_name
    if email is not None:
        email = email.strip()
        if email and (len(email) > 120 or not EMAIL.match(email)):
            message = str(_l("Enter an e-mail address."))
            raise ValidationFailed(message, {"email": message})
        user.email = email
    if role is not None:
        user.role = role
    if active is not None:
        if user.active and not active:
            end_sessions(user)
        user.active = active
    if area_codes is not None:
        user.areas = _areas_by_code(area_codes)
    if user.role == Role.CASEWORKER and not user.areas:
        raise ValidationFailed(
            str(_l("A caseworker needs at least one area.")), {"areas": str(_l("Choose at least one area."))}
        )
    db.session.flush()
    b, a = audit.changed(before, _user_snapshot(user))
    if password:
        a["password"] = "changed"  # noqa: S105 (a marker, not a password)
    if a:
        audit.record(actor, "update", "user", user.id, before=b, after=a, summary=user.username)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def end_sessions(user: User) -> None:
    """End every session and API token of ``user`` (logout, a password change, deactivation), in every process."""
    user.session_generation = User.session_generation + 1
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.flush()


def log_out(user: User) -> None:
    """Log out everywhere (every session and API token of ``user`` ends), in the audit log like the login."""
    end_sessions(user)
    audit.record(user, "logout", "user", user.id, summary=user.username)


def issue_token(user: User) -> tuple[str, datetime]:
    """A new API token for ``user`` and when it expires; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=current_app.config["API_TOKEN_DAYS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=expires_at))
    return token, expires_at


def revoke_token(token: str) -> bool:
    """Revoke one API token (the one a client logs out with); False when there was no such live token."""
    if not token or len(token) > 200:
        return False
    return db.session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_hash(token))).rowcount > 0


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.expires_at < utcnow() or not row.user.active:
        return None
    return row.user
