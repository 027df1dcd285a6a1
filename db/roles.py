"""PostgreSQL decides who may do what: group roles, grants, and an audit trail it writes.

`install` is run once by the database owner (`illdesk db roles`, again after each upgrade).
It creates one group role per ILL Desk role, a role for the daily jobs and the NCIP
responder, and a role for the sign-in window, grants each the tables its services need, and
makes the database stamp every audit event with who (`session_user`) and when (`now()`):
the SQL of those triggers and of the sign-in functions is in db/server_functions.py.

PostgreSQL roles belong to the whole server, so every name carries the database's prefix
(`prefix_for`): the database `illdesk` has the groups `illdesk_desk`, `illdesk_ctl`,
`illdesk_office`, `illdesk_admin`, the roles `illdesk_service` and `illdesk_signin`, and one
login role per staff account, `illdesk_u_<username>`. Groups nest (desk < ctl < office <
admin), as the application's roles do. SQLite has no roles: the file's owner is the boundary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from db.errors import unavailable
from db.models import Base, Role
from db.server_functions import audit_triggers, sign_in_functions
from db.server_functions import quoted as _q

MAX_PREFIX = 20  # leaves 41 bytes of a role name (63 at most) for a username
STAFF_MARK = "u_"  # staff login roles are <prefix>u_<username>, apart from the groups
GROUPS = {Role.DESK: "desk", Role.CTL: "ctl", Role.ILL_OFFICE: "office", Role.ADMIN: "admin"}
SERVICE = "service"  # the daily jobs and the NCIP responder
SIGNIN = "signin"  # the desk before anyone signs in: branches, library name, lockout counter
_NEST = (("desk", "ctl"), ("ctl", "office"), ("office", "admin"))

# Settings the daily jobs keep their own bookkeeping in: the only ones they may write.
SERVICE_SETTINGS = (
    "notices_last_run",
    "privacy_last_run",
    "public_holidays_through",
    "public_holidays_for",
)

# What each role writes beyond SELECT (which every role has on every table). Groups inherit
# down the nesting: an office role also has every desk grant.
WRITES: dict[str, dict[str, str]] = {
    "desk": {  # check-in, check-out, in-house use, the hold shelf, transits
        "items": "UPDATE",
        "loans": "INSERT, UPDATE",
        "transits": "INSERT, UPDATE",
        "hold_shelf_entries": "INSERT, UPDATE",
        "in_house_uses": "INSERT, UPDATE",
        "ill_requests": "UPDATE",
        "notices": "INSERT, UPDATE",
        "not_found_scans": "INSERT",
        "due_date_discrepancies": "INSERT",
        "missing_pieces": "INSERT",  # a piece missing at check-in, for the ILL office
        "applied_scans": "INSERT",
        "audit_events": "INSERT",
    },
    "ctl": {},  # the pull list and the ILL account: what the desk grants already allow
    "office": {
        "items": "INSERT",
        "ill_requests": "INSERT",
        "patrons": "INSERT, UPDATE",
        "charges": "INSERT, UPDATE",
        "ifm_transactions": "INSERT, UPDATE",
        "ifm_settlements": "INSERT",
        "partner_libraries": "INSERT, UPDATE",
        "cancel_reasons": "INSERT, UPDATE",
        "not_found_scans": "UPDATE",
        "due_date_discrepancies": "UPDATE",
        "missing_pieces": "UPDATE",  # cleared when the piece turns up
        "strap_prints": "INSERT, UPDATE",  # straps queued at receipt, marked when printed
        # The ILL office sends the notices by hand too (`notices run`, "Send now"): only
        # the run's own bookkeeping row, by row-level security (OFFICE_SETTINGS).
        "library_settings": "INSERT, UPDATE",
    },
    "admin": {
        "staff": "INSERT, UPDATE",
        "library_settings": "INSERT, UPDATE",
        "ncip_partners": "INSERT, UPDATE, DELETE",
        "notice_templates": "INSERT, UPDATE, DELETE",
        "branches": "INSERT, UPDATE",
        "closures": "INSERT, UPDATE, DELETE",
    },
    SERVICE: {  # notices run, anonymising, holidays, NCIP; never staff, partners, templates
        "items": "INSERT, UPDATE",
        "loans": "INSERT, UPDATE",
        "transits": "INSERT, UPDATE",
        "hold_shelf_entries": "INSERT, UPDATE",
        "in_house_uses": "INSERT, UPDATE",
        "ill_requests": "INSERT, UPDATE",
        "notices": "INSERT, UPDATE",
        "patrons": "UPDATE",
        "due_date_discrepancies": "UPDATE",
        "closures": "INSERT",
        "library_settings": "INSERT, UPDATE",  # row-level security: SERVICE_SETTINGS only
        "ncip_messages": "INSERT, UPDATE",
        "strap_prints": "INSERT",  # an AcceptItem's strap waits for the ILL office
        "applied_scans": "INSERT",
        # Anonymising takes the patron's name out of cleared missing-piece flags' notes.
        "missing_pieces": "UPDATE (note, clear_note)",
        # Anonymising clears the patron from old events; a trigger refuses anything else.
        "audit_events": "INSERT, UPDATE (patron_id, detail, before, after)",
    },
}
OFFICE_SETTINGS = ("notices_last_run",)
HIDDEN_STAFF_COLUMNS = ("password_hash",)  # administrators only
SIGNIN_READS = ("branches", "library_settings", "alembic_version")


def prefix_for(database: str) -> str:
    """The role-name prefix of one database: its name, lower-cased, then `_`.

    Characters other than letters, digits and `_` become `_`. A name too long for
    MAX_PREFIX keeps its first 13 characters and a digest of the whole, so two long names
    never share roles.
    """
    name = re.sub(r"[^a-z0-9_]", "_", database.lower())
    if len(name) + 1 <= MAX_PREFIX:
        return name + "_"
    digest = hashlib.sha256(name.encode()).hexdigest()[:5]
    return f"{name[:13]}_{digest}_"


def group_role(prefix: str, role: Role) -> str:
    return prefix + GROUPS[role]


def staff_role(prefix: str, username: str) -> str:
    """The login role of one staff account; ValueError when the name would be too long."""
    name = prefix + STAFF_MARK + username
    if len(name.encode()) > 63:
        room = 63 - len((prefix + STAFF_MARK).encode())
        raise ValueError(f"On this database a username has at most {room} characters.")
    return name


def current_prefix(conn: Connection) -> str:
    return prefix_for(str(conn.exec_driver_sql("SELECT current_database()").scalar()))


def installed_prefix(conn: Connection) -> str | None:
    """The prefix when this is PostgreSQL and the roles are set up, else None."""
    if conn.dialect.name != "postgresql":
        return None
    prefix = current_prefix(conn)
    found = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": prefix + GROUPS[Role.DESK]}
    ).scalar()
    return prefix if found else None


@dataclass(frozen=True)
class RolesReport:
    """What `install` set up: the prefix and every role it manages."""

    database: str
    prefix: str
    roles: tuple[str, ...]


def install(conn: Connection) -> RolesReport:
    """Create or bring up to date the roles, grants, policies and triggers (the owner runs it).

    Idempotent: it revokes what the roles held and grants afresh, so a grant removed from
    WRITES disappears from the database at the next run.
    """
    database = str(conn.exec_driver_sql("SELECT current_database()").scalar())
    schema = str(conn.exec_driver_sql("SELECT current_schema()").scalar())
    prefix = prefix_for(database)
    names = {g: prefix + g for g in (*GROUPS.values(), SERVICE, SIGNIN)}
    for group, name in names.items():
        if not _role_exists(conn, name):
            login = "LOGIN" if group in (SERVICE, SIGNIN) else "NOLOGIN"
            conn.exec_driver_sql(f"CREATE ROLE {_q(name)} {login}")
    conn.exec_driver_sql(f"ALTER ROLE {_q(names['admin'])} CREATEROLE")
    for lower, upper in _NEST:
        conn.exec_driver_sql(f"GRANT {_q(names[lower])} TO {_q(names[upper])}")
    for group in ("desk", "ctl", "office"):  # administrators hand out the groups
        conn.exec_driver_sql(f"GRANT {_q(names[group])} TO {_q(names['admin'])} WITH ADMIN OPTION")
    every = ", ".join(_q(n) for n in names.values())
    conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {_q(database)} TO {every}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {every}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {_q(schema)} FROM {every}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {_q(schema)} FROM {every}")
    tables = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
    readers = f"{_q(names['desk'])}, {_q(names[SERVICE])}"
    for table in tables:
        if table != "staff":
            conn.exec_driver_sql(f"GRANT SELECT ON {_q(table)} TO {readers}")
    # Nobody below an administrator reads password hashes (an offline guessing game); a
    # staff member's own is checked through illdesk_own_password_hash().
    shown = ", ".join(
        _q(c.name)
        for c in Base.metadata.tables["staff"].columns
        if c.name not in HIDDEN_STAFF_COLUMNS
    )
    conn.exec_driver_sql(f"GRANT SELECT ({shown}) ON staff TO {readers}")
    conn.exec_driver_sql(f"GRANT SELECT ON staff TO {_q(names['admin'])}")
    for table in SIGNIN_READS:
        conn.exec_driver_sql(f"GRANT SELECT ON {_q(table)} TO {_q(names[SIGNIN])}")
    # "Any accounts yet?": a count, never a name or a password hash.
    conn.exec_driver_sql(f"GRANT SELECT (id) ON staff TO {_q(names[SIGNIN])}")
    # The change feed (app/records/change_feed.py): the newest event's number, never what it
    # says; behind a transaction pooler every desk polls through the sign-in role's one pool.
    conn.exec_driver_sql(f"GRANT SELECT (id) ON audit_events TO {_q(names[SIGNIN])}")
    conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {_q(schema)} TO {readers}")
    for group, grants in WRITES.items():
        for table, what in grants.items():
            conn.exec_driver_sql(f"GRANT {what} ON {_q(table)} TO {_q(names[group])}")
    _settings_policies(conn, names)
    mark = prefix + STAFF_MARK
    audit_triggers(conn, schema, mark)
    sign_in_functions(conn, schema, mark, signin=names[SIGNIN], desk=names["desk"])
    return RolesReport(database, prefix, tuple(names.values()))


def _settings_policies(conn: Connection, names: dict[str, str]) -> None:
    """Library settings: administrators write any; the daily jobs only their bookkeeping,
    and the ILL office only the notices run's."""
    conn.exec_driver_sql("ALTER TABLE library_settings ENABLE ROW LEVEL SECURITY")
    keys = ", ".join(f"'{k}'" for k in SERVICE_SETTINGS)
    office_keys = ", ".join(f"'{k}'" for k in OFFICE_SETTINGS)
    policies = {
        "illdesk_read": "FOR SELECT USING (true)",
        "illdesk_admin_writes": f"FOR ALL TO {_q(names['admin'])} USING (true) WITH CHECK (true)",
        "illdesk_service_writes": f"FOR ALL TO {_q(names[SERVICE])} "
        f"USING (key IN ({keys})) WITH CHECK (key IN ({keys}))",
        "illdesk_office_writes": f"FOR ALL TO {_q(names['office'])} "
        f"USING (key IN ({office_keys})) WITH CHECK (key IN ({office_keys}))",
    }
    for name, rule in policies.items():
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {name} ON library_settings")
        conn.exec_driver_sql(f"CREATE POLICY {name} ON library_settings {rule}")


def drop_roles(server: Connection, prefix: str) -> list[str]:
    """Drop every role of one prefix: its groups and the staff login roles in them.

    Run on another database of the server after the database itself was dropped (the
    test suite does this); roles still holding privileges elsewhere make it fail.
    """
    groups = [prefix + g for g in (*GROUPS.values(), SERVICE, SIGNIN)]
    rows = server.execute(
        text(
            "SELECT DISTINCT m.rolname FROM pg_auth_members a "
            "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
            "WHERE g.rolname = ANY(:groups) AND starts_with(m.rolname, :staff)"
        ),
        {"groups": groups, "staff": prefix + STAFF_MARK},
    ).scalars()
    staff = list(rows)
    dropped = []
    for name in [*staff, *reversed(groups)]:
        if _role_exists(server, name):
            server.exec_driver_sql(f"DROP ROLE {_q(name)}")
            dropped.append(name)
    return dropped


def _raw(conn: Connection) -> Any:
    """The psycopg connection under `conn`, for client-side password encryption."""
    return conn.connection.driver_connection


def _role_exists(conn: Connection, name: str) -> bool:
    found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name})
    return found.scalar() is not None


def sync_staff_login(
    conn: Connection, username: str, role: Role, *, active: bool, password: str | None = None
) -> str | None:
    """Make the staff account's login role match it: LOGIN while active, in its role's
    group only (administrators also CREATEROLE), and the password when one is given.

    Idempotent, in the caller's transaction. The password reaches the server only as a
    SCRAM verifier computed here. None (nothing done) on SQLite or before `install`.
    """
    prefix = installed_prefix(conn)
    if prefix is None:
        return None
    name = staff_role(prefix, username)
    attributes = ("LOGIN" if active else "NOLOGIN") + (
        " CREATEROLE" if role is Role.ADMIN else " NOCREATEROLE"
    )
    verb = "ALTER" if _role_exists(conn, name) else "CREATE"
    conn.exec_driver_sql(f"{verb} ROLE {_q(name)} {attributes}")
    held = set(
        conn.execute(
            text(
                "SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = :r"
            ),
            {"r": name},
        ).scalars()
    )
    for each in GROUPS:
        group = group_role(prefix, each)
        if each is role and group not in held:
            conn.exec_driver_sql(f"GRANT {_q(group)} TO {_q(name)}")
        elif each is not role and group in held:
            conn.exec_driver_sql(f"REVOKE {_q(group)} FROM {_q(name)}")
    if password is not None:
        verifier = _raw(conn).pgconn.encrypt_password(
            password.encode(), name.encode(), b"scram-sha-256"
        )
        literal = verifier.decode().replace("'", "''")
        conn.exec_driver_sql(f"ALTER ROLE {_q(name)} PASSWORD '{literal}'")
    return name


class LoginOutcome(StrEnum):
    CONNECTED = "connected"
    WRONG_PASSWORD = "wrong_password"  # or no such role: the server does not say which
    NOT_PERMITTED = "not_permitted"  # the right password for a deactivated account
    PASSWORD_NEEDED = "password_needed"  # no password given and the server asks for one


def login_url(url: str, role: str, password: str | None) -> str:
    """The database URL of `url` with the staff member's own role and password (None: the
    server authenticates the computer's own login, with `sspi`, `gss` or `peer`)."""
    parsed = make_url(url).set(username=role, password=password)
    return parsed.render_as_string(hide_password=False)


def login_refusal(error: BaseException) -> LoginOutcome | None:
    """Why the server refused a login, read from the driver's error anywhere in `error`'s
    chain; None when it was something else (the server away, no pg_hba.conf line)."""
    import psycopg  # here: an SQLite desk never loads the PostgreSQL driver

    seen: BaseException | None = error
    while seen is not None and not isinstance(seen, psycopg.OperationalError):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    said = str(seen)
    if getattr(seen, "sqlstate", None) == "28P01" or "password authentication failed" in said:
        return LoginOutcome.WRONG_PASSWORD
    if ("role" in said and "does not exist" in said) or "no such user" in said:
        # No such account. A server that checks passwords never says so (it answers as
        # for a wrong password); one that trusts this PC does: answer alike.
        return LoginOutcome.WRONG_PASSWORD
    if "no password supplied" in said:
        return LoginOutcome.PASSWORD_NEEDED
    if "not permitted to log in" in said:
        return LoginOutcome.NOT_PERMITTED
    return None


def try_login(url: str, role: str, password: str | None) -> LoginOutcome:
    """Let the server check the password (SCRAM): one connection, closed at once.

    Raises DatabaseUnavailable when the server cannot be reached or refuses for another
    reason (no pg_hba.conf line for this PC, say), with the server's own words.
    """
    import psycopg  # here: an SQLite desk never loads the PostgreSQL driver
    from psycopg.conninfo import make_conninfo

    parsed = make_url(url)
    options = {k: v for k, v in parsed.query.items() if isinstance(v, str)}
    if parsed.host:
        options["host"] = parsed.host
    if parsed.port:
        options["port"] = str(parsed.port)
    try:
        conn = psycopg.connect(
            make_conninfo(
                dbname=parsed.database or "",
                user=role,
                password=password,
                connect_timeout=5,
                **options,
            )
        )
    except psycopg.OperationalError as exc:
        refused = login_refusal(exc)
        if refused is not None:
            return refused
        raise unavailable(exc) from exc
    conn.close()
    return LoginOutcome.CONNECTED
