"""The functions and triggers PostgreSQL runs for itself, which no desk can change.

The audit trail: the server stamps each event with who (`session_user`) and when (`now()`),
the tables that matter record their own changes, and only the anonymising run may touch an
event (by clearing its patron). The sign-in functions: SECURITY DEFINER functions that keep
the lockout counter and look up the caller's own password hash for roles that may not read
or write `staff`, with the calls the application makes to them. db/roles.py installs them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

PATRON_SHOWN_AS = "[patron]"  # as app/records/privacy.py writes it in an anonymised event

# Tables whose every change the database records in the audit trail, with their key column
# and the columns never copied into it.
RECORDED: dict[str, tuple[str, tuple[str, ...]]] = {
    "staff": ("id", ("password_hash", "failed_sign_ins", "locked_until")),
    "charges": ("id", ()),
    "library_settings": ("key", ("updated_at",)),
    "ncip_partners": ("id", ("secret_hash", "updated_at")),
    "notice_templates": ("id", ("updated_at",)),
}


def quoted(name: str) -> str:
    """A role, table or function name quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


_STAMP = """
CREATE OR REPLACE FUNCTION {schema}.illdesk_audit_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    who text := session_user;
    mark text := '{mark}';
BEGIN
    -- The owner (and a superuser) can change anything anyway: its events stand as sent.
    IF pg_has_role(session_user,
                   (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NEW;
    END IF;
    NEW.at := now();
    IF left(who, length(mark)) = mark THEN
        NEW.username := substr(who, length(mark) + 1);
        NEW.staff_id := (SELECT id FROM staff WHERE username = NEW.username);
    ELSE
        NEW.username := left(who, 64);
        NEW.staff_id := NULL;
    END IF;
    RETURN NEW;
END
$fn$
"""

_CHANGE = """
CREATE OR REPLACE FUNCTION {schema}.illdesk_record_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    old_row jsonb;
    new_row jsonb;
    before_row jsonb := '{{}}';
    after_row jsonb := '{{}}';
    col text;
    row_key text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD) - TG_ARGV[1:];
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW) - TG_ARGV[1:];
    END IF;
    IF TG_OP = 'UPDATE' THEN
        FOR col IN SELECT jsonb_object_keys(new_row) LOOP
            IF new_row -> col IS DISTINCT FROM old_row -> col THEN
                before_row := before_row || jsonb_build_object(col, old_row -> col);
                after_row := after_row || jsonb_build_object(col, new_row -> col);
            END IF;
        END LOOP;
        IF after_row = '{{}}' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        before_row := NULL;
        after_row := new_row;
    ELSE
        before_row := old_row;
        after_row := NULL;
    END IF;
    row_key := COALESCE(new_row, old_row) ->> TG_ARGV[0];
    INSERT INTO audit_events (at, staff_id, username, branch_code, workstation, action,
                              entity, entity_id, before, after, detail)
    VALUES (now(), NULL, left(session_user, 64), '',
            left(COALESCE(current_setting('illdesk.workstation', true), ''), 128),
            'db.' || TG_TABLE_NAME || '.' || lower(TG_OP), left(TG_TABLE_NAME, 32),
            CASE WHEN row_key ~ '^[0-9]{{1,9}}$' THEN row_key::integer END,
            before_row::json, after_row::json, TG_TABLE_NAME || ' ' || row_key);
    RETURN NULL;
END
$fn$
"""


_FORGET = """
CREATE OR REPLACE FUNCTION {schema}.illdesk_only_forget_patron() RETURNS trigger
LANGUAGE plpgsql SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    forgotten text;
BEGIN
    IF pg_has_role(session_user,
                   (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NEW;
    END IF;
    -- The anonymising run's change (app/records/privacy.py), and nothing else: the patron
    -- goes, the notice's before/after may go, and the detail loses the patron's name,
    -- campus ID, barcode and e-mail, replaced exactly as the application replaces them.
    SELECT replace(replace(replace(replace(replace(replace(OLD.detail,
               coalesce(p.first_name || ' ' || p.last_name, ''), '{shown}'),
               coalesce(p.last_name || ', ' || p.first_name, ''), '{shown}'),
               coalesce(p.patron_id, ''), '{shown}'), coalesce(p.barcode, ''), '{shown}'),
               coalesce(p.email, ''), '{shown}'), coalesce(p.last_name, ''), '{shown}')
    INTO forgotten FROM patrons p WHERE p.id = OLD.patron_id;
    IF OLD.patron_id IS NULL OR NEW.patron_id IS NOT NULL
       OR (NEW.before IS NOT NULL AND NEW.before::text IS DISTINCT FROM OLD.before::text)
       OR (NEW.after IS NOT NULL AND NEW.after::text IS DISTINCT FROM OLD.after::text)
       OR (NEW.detail IS DISTINCT FROM OLD.detail AND NEW.detail IS DISTINCT FROM forgotten)
    THEN
        RAISE EXCEPTION 'an audit event may only lose its patron (anonymising)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$fn$
"""


def audit_triggers(conn: Connection, schema: str, mark: str) -> None:
    """Who and when come from the server; changes to the tables that matter record
    themselves; nobody but the owner deletes an event or changes what it says (the service
    role may only clear its patron, when anonymising: `illdesk_forget_only`). `mark` starts
    every staff login role's name (db/roles.py: the prefix, then `u_`)."""
    where = quoted(schema)
    conn.exec_driver_sql(_STAMP.format(schema=where, mark=mark))
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS illdesk_stamp ON audit_events")
    conn.execute(
        text(
            "CREATE TRIGGER illdesk_stamp BEFORE INSERT ON audit_events "
            f"FOR EACH ROW EXECUTE FUNCTION {where}.illdesk_audit_stamp()"
        )
    )
    conn.exec_driver_sql(_FORGET.format(schema=where, shown=PATRON_SHOWN_AS))
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS illdesk_forget_only ON audit_events")
    conn.execute(
        text(
            "CREATE TRIGGER illdesk_forget_only BEFORE UPDATE ON audit_events "
            f"FOR EACH ROW EXECUTE FUNCTION {where}.illdesk_only_forget_patron()"
        )
    )
    conn.exec_driver_sql(_CHANGE.format(schema=where))
    for table, (key, hidden) in RECORDED.items():
        args = ", ".join(f"'{a}'" for a in (key, *hidden))
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS illdesk_changes ON {quoted(table)}")
        conn.execute(
            text(
                f"CREATE TRIGGER illdesk_changes AFTER INSERT OR UPDATE OR DELETE ON "
                f"{quoted(table)} FOR EACH ROW EXECUTE FUNCTION "
                f"{where}.illdesk_record_change({args})"
            )
        )


# The lockout rule of app/people/staff.py, kept where a desk role cannot change it.
MAX_FAILED_SIGN_INS = 5
LOCKOUT_BASE_SECONDS = 30

_SIGN_IN = """
CREATE OR REPLACE FUNCTION {schema}.illdesk_sign_in_locked(p_username text)
RETURNS timestamptz LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $fn$
    SELECT locked_until FROM staff WHERE username = p_username AND locked_until > now()
$fn$;

CREATE OR REPLACE FUNCTION {schema}.illdesk_sign_in_failed(p_username text, p_branch text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    failed integer;
    account integer;
    locked boolean;
BEGIN
    UPDATE staff SET failed_sign_ins = failed_sign_ins + 1 WHERE username = p_username
    RETURNING id, failed_sign_ins INTO account, failed;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    locked := failed >= {max_failed};
    IF locked THEN
        UPDATE staff SET locked_until = now() + make_interval(
            secs => {base} * power(2, least(failed - {max_failed}, 10)))
        WHERE id = account;
    END IF;
    INSERT INTO audit_events (at, username, branch_code, workstation, action, entity,
                              entity_id, after, detail)
    VALUES (now(), p_username, left(p_branch, 16), '', 'staff.sign_in_failed', 'staff',
            account, json_build_object('failed_sign_ins', failed, 'locked', locked),
            'account ' || p_username);
    RETURN failed;
END
$fn$;

CREATE OR REPLACE FUNCTION {schema}.illdesk_own_password_hash()
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $fn$
    SELECT password_hash FROM staff WHERE '{mark}' || username = session_user
$fn$;

CREATE OR REPLACE FUNCTION {schema}.illdesk_mapped_staff(p_os_user text)
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $fn$
    SELECT username FROM staff WHERE os_user = p_os_user AND p_os_user <> ''
$fn$;

CREATE OR REPLACE FUNCTION {schema}.illdesk_sign_in_succeeded()
RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $fn$
    UPDATE staff SET failed_sign_ins = 0, locked_until = NULL
    WHERE '{mark}' || username = session_user
      AND (failed_sign_ins <> 0 OR locked_until IS NOT NULL)
$fn$;
"""


def sign_in_functions(conn: Connection, schema: str, mark: str, *, signin: str, desk: str) -> None:
    """The lockout counter, for roles that may not write `staff`: a failed attempt is
    counted for the account named, a success clears only the caller's own account.

    `signin` (the sign-in window's role) and `desk` (the desk group, which every staff
    login is in) may call them.
    """
    where = quoted(schema)
    conn.exec_driver_sql(
        _SIGN_IN.format(
            schema=where, mark=mark, max_failed=MAX_FAILED_SIGN_INS, base=LOCKOUT_BASE_SECONDS
        )
    )
    callers = f"{quoted(signin)}, {quoted(desk)}"
    for function, who in (
        ("illdesk_sign_in_locked(text)", callers),
        ("illdesk_sign_in_failed(text, text)", callers),
        ("illdesk_mapped_staff(text)", callers),
        ("illdesk_own_password_hash()", quoted(desk)),
        ("illdesk_sign_in_succeeded()", quoted(desk)),
    ):
        conn.exec_driver_sql(f"REVOKE ALL ON FUNCTION {where}.{function} FROM PUBLIC")
        conn.exec_driver_sql(f"GRANT EXECUTE ON FUNCTION {where}.{function} TO {who}")


def locked_until(conn: Connection, username: str) -> Any:
    """When the account's lockout ends (None: not locked), as any sign-in role may ask."""
    return conn.execute(text("SELECT illdesk_sign_in_locked(:u)"), {"u": username}).scalar()


def count_failed_sign_in(conn: Connection, username: str, branch_code: str) -> None:
    conn.execute(text("SELECT illdesk_sign_in_failed(:u, :b)"), {"u": username, "b": branch_code})


def mapped_staff(conn: Connection, os_user: str) -> str | None:
    """The staff username a computer account is mapped to, as the sign-in role may ask."""
    found = conn.execute(text("SELECT illdesk_mapped_staff(:o)"), {"o": os_user}).scalar()
    return str(found) if found else None


def own_password_hash(conn: Connection) -> str | None:
    """The connected staff member's own password hash (no other is readable below admin)."""
    found = conn.execute(text("SELECT illdesk_own_password_hash()")).scalar()
    return str(found) if found else None


def count_signed_in(conn: Connection) -> None:
    """Clear the lockout counter of the account this connection is logged in as."""
    conn.execute(text("SELECT illdesk_sign_in_succeeded()"))
