#!/usr/bin/env python3
"""QuickBite backend stand-in: behaves like the Spring Boot service on the wire.

Python stdlib + psycopg2 only. Configuration is read from the environment once
at start-up. Secrets are never logged.

Endpoints: GET /actuator/health, GET /actuator/info, POST /api/auth/login,
GET /api/orders (Bearer JWT), POST /api/payments/webhook (X-Razorpay-Signature),
GET /ws (WebSocket echo), GET /actuator/prometheus (Micrometer's text format),
GET/POST /actuator/faults (switches the tests flip).
"""
import base64
import binascii
import datetime
import decimal
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

START = time.monotonic()
APP_NAME = "quickbite"
VERSION = os.environ.get("QUICKBITE_VERSION", "0.0")


# --------------------------------------------------------------------------- config
def _env(name, default=None, required=True):
    value = os.environ.get(name, default)
    if required and (value is None or value == ""):
        fail_startup(
            "java.lang.IllegalStateException",
            f"Required configuration property '{name}' is not set",
        )
    return value


class Config:
    def __init__(self):
        self.db_host = _env("DB_HOST", "127.0.0.1")
        self.db_port = int(_env("DB_PORT", "5432"))
        self.db_name = _env("DB_NAME")
        self.db_user = _env("DB_USER")
        self.db_password = _env("DB_PASSWORD")
        self.redis_host = _env("REDIS_HOST", "127.0.0.1")
        self.redis_port = int(_env("REDIS_PORT", "6379"))
        self.redis_password = os.environ.get("REDIS_PASSWORD", "")
        self.jwt_secret = _env("JWT_SECRET")
        self.jwt_secret_previous = os.environ.get("JWT_SECRET_PREVIOUS", "")
        self.webhook_secret = _env("PAYMENT_WEBHOOK_SECRET")
        self.server_port = int(_env("SERVER_PORT", "8080"))
        self.bind = os.environ.get("SERVER_ADDRESS", "127.0.0.1")
        self.extra_migrations = os.environ.get("QUICKBITE_EXTRA_MIGRATIONS_DIR", "")
        self.migrations = os.environ.get(
            "QUICKBITE_MIGRATIONS_DIR",
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "db", "migration"),
        )
        self.db_wait = float(os.environ.get("QUICKBITE_DB_WAIT_SECONDS", "30"))

    def db_connect(self, timeout=3):
        return psycopg2.connect(
            host=self.db_host, port=self.db_port, dbname=self.db_name,
            user=self.db_user, password=self.db_password,
            connect_timeout=timeout, application_name="quickbite-backend",
        )


CFG = None  # set in main()


# --------------------------------------------------------------------------- logging
_log_lock = threading.Lock()


def _abbrev(logger):
    # Like logback's %logger{39}: shorten package segments, left-aligned to 40.
    parts = logger.split(".")
    if len(logger) > 39:
        parts = [p[0] for p in parts[:-1]] + parts[-1:]
    return ".".join(parts)[:40].ljust(40)


def log(level, logger, message, thread=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    thread = thread or threading.current_thread().name
    if thread == "MainThread":
        thread = "main"
    thread = thread[-15:].rjust(15)
    line = f"{ts} {level:>5} {os.getpid()} --- [{APP_NAME}] [{thread}] {_abbrev(logger)} : {message}"
    with _log_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def log_trace(exc_class, message, frames, cause=None):
    lines = [f"{exc_class}: {message}"]
    lines += [f"\tat {f}" for f in frames]
    if cause:
        lines.append(f"Caused by: {cause[0]}: {cause[1]}")
        lines += [f"\tat {f}" for f in cause[2]]
        lines.append("\t... 3 common frames omitted")
    with _log_lock:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


MAIN_FRAMES = [
    "org.springframework.boot.SpringApplication.run(SpringApplication.java:318)",
    "org.springframework.boot.SpringApplication.run(SpringApplication.java:1306)",
    "com.quickbite.backend.QuickBiteApplication.main(QuickBiteApplication.java:12)",
]


def fail_startup(exc_class, message, cause=None, frames=None):
    log("ERROR", "org.springframework.boot.SpringApplication", "Application run failed")
    log_trace(exc_class, message, (frames or []) + MAIN_FRAMES, cause)
    sys.exit(1)


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return " ".join(t.strip() for t in text) if text else exc.__class__.__name__


# --------------------------------------------------------------------------- migrations
MIGRATION_RE = re.compile(r"^V(\d+(?:[._]\d+)*)__(.+)\.sql$")


class Migration:
    def __init__(self, path):
        self.path = path
        self.script = os.path.basename(path)
        m = MIGRATION_RE.match(self.script)
        self.version = m.group(1).replace("_", ".")
        self.key = tuple(int(p) for p in self.version.split("."))
        self.description = m.group(2).replace("_", " ")
        with open(path, "rb") as fh:
            self.raw = fh.read()
        self.sql = self.raw.decode("utf-8-sig")
        self.checksum = flyway_checksum(self.raw)


def flyway_checksum(raw):
    """Flyway's checksum: CRC32 updated line by line (BOM and line terminators stripped), signed int."""
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    if text.endswith(("\n", "\r")):
        lines = lines[:-1]  # BufferedReader.readLine() yields no trailing empty line
    crc = 0
    for line in lines:
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def discover_migrations():
    found = {}
    for d in [CFG.migrations, CFG.extra_migrations]:
        if not d:
            continue
        if not os.path.isdir(d):
            log("WARN", "o.f.c.i.s.classpath.ClassPathScanner", f"Unable to resolve location filesystem:{d}.")
            continue
        for name in sorted(os.listdir(d)):
            if MIGRATION_RE.match(name):
                m = Migration(os.path.join(d, name))
                if m.version in found:
                    fail_startup(
                        "org.flywaydb.core.api.FlywayException",
                        f"Found more than one migration with version {m.version}\n"
                        f"Offenders:\n-> {found[m.version].path} (SQL)\n-> {m.path} (SQL)",
                    )
                found[m.version] = m
    return sorted(found.values(), key=lambda m: m.key)


HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS flyway_schema_history (
    installed_rank INT NOT NULL,
    version VARCHAR(50),
    description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL,
    script VARCHAR(1000) NOT NULL,
    checksum INT,
    installed_by VARCHAR(100) NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INT NOT NULL,
    success BOOLEAN NOT NULL,
    CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)
);
CREATE INDEX IF NOT EXISTS flyway_schema_history_s_idx ON flyway_schema_history (success);
"""

FLYWAY_FRAMES = [
    "org.flywaydb.core.internal.command.DbMigrate.doMigrateGroup(DbMigrate.java:377)",
    "org.flywaydb.core.internal.command.DbMigrate.migrateGroup(DbMigrate.java:247)",
    "org.flywaydb.core.Flyway.migrate(Flyway.java:140)",
    "org.springframework.boot.autoconfigure.flyway.FlywayMigrationInitializer.afterPropertiesSet(FlywayMigrationInitializer.java:66)",
]
VALIDATE_FRAMES = [
    "org.flywaydb.core.Flyway.lambda$migrate$0(Flyway.java:109)",
    "org.flywaydb.core.FlywayExecutor.execute(FlywayExecutor.java:205)",
    "org.flywaydb.core.Flyway.migrate(Flyway.java:147)",
    "org.springframework.boot.autoconfigure.flyway.FlywayMigrationInitializer.afterPropertiesSet(FlywayMigrationInitializer.java:66)",
]


def migrate(conn):
    flog = "o.f.core.internal.command.DbMigrate"
    migrations = discover_migrations()
    conn.autocommit = True
    with conn.cursor() as cur:
        # Serialise concurrent replicas like Flyway does on PostgreSQL.
        cur.execute("SELECT pg_advisory_lock(%s)", (77431100,))
        try:
            cur.execute("SELECT to_regclass('flyway_schema_history') IS NOT NULL")
            if not cur.fetchone()[0]:
                log("INFO", "o.f.c.i.s.JdbcTableSchemaHistory",
                    'Creating Schema History table "public"."flyway_schema_history" ...')
            cur.execute(HISTORY_DDL)
            cur.execute("SELECT installed_rank, version, description, checksum, success, script "
                        "FROM flyway_schema_history ORDER BY installed_rank")
            rows = cur.fetchall()
            failed = [r for r in rows if not r[4]]
            if failed:
                r = failed[0]
                msg = ("Validate failed: Migrations have failed validation. "
                       f"Detected failed migration to version {r[1]} ({r[2]}). "
                       "Please remove any half-completed changes then run repair to fix the schema history.")
                log("ERROR", "o.s.boot.SpringApplication", "Application run failed")
                log("ERROR", "org.flywaydb.core.Flyway",
                    f"org.flywaydb.core.api.exception.FlywayValidateException: {msg}")
                log_trace("org.flywaydb.core.api.exception.FlywayValidateException", msg,
                          VALIDATE_FRAMES + MAIN_FRAMES)
                sys.exit(1)
            applied = {r[1]: r for r in rows if r[1] is not None}
            by_version = {m.version: m for m in migrations}
            for v, r in applied.items():
                m = by_version.get(v)
                if m is not None and r[3] != m.checksum:
                    msg = ("Validate failed: Migrations have failed validation\n"
                           f"Migration checksum mismatch for migration version {v}\n"
                           f"-> Applied to database : {r[3]}\n-> Resolved locally    : {m.checksum}\n"
                           "Either revert the changes to the migration, or run repair to update the schema history.")
                    log("ERROR", "o.s.boot.SpringApplication", "Application run failed")
                    log_trace("org.flywaydb.core.api.exception.FlywayValidateException", msg,
                              VALIDATE_FRAMES + MAIN_FRAMES)
                    sys.exit(1)
            log("INFO", "o.f.core.internal.command.DbValidate",
                f"Successfully validated {len(migrations)} migrations (execution time 00:00.00{len(rows)}s)")
            current = max((m.key for m in migrations if m.version in applied), default=None)
            pending = [m for m in migrations if m.version not in applied]
            log("INFO", "o.f.core.internal.command.DbMigrate",
                'Current version of schema "public": '
                + (".".join(map(str, current)) if current else "<< Empty Schema >>"))
            if not pending:
                log("INFO", flog, 'Schema "public" is up to date. No migration necessary.')
                return
            rank = max((r[0] for r in rows), default=0)
            for m in pending:
                rank += 1
                log("INFO", flog, f'Migrating schema "public" to version "{m.version} - {m.description}"')
                t0 = time.monotonic()
                try:
                    conn.autocommit = False
                    with conn.cursor() as mc:
                        mc.execute(m.sql)
                        ms = int((time.monotonic() - t0) * 1000)
                        mc.execute(
                            "INSERT INTO flyway_schema_history (installed_rank, version, description, type,"
                            " script, checksum, installed_by, execution_time, success)"
                            " VALUES (%s,%s,%s,'SQL',%s,%s,current_user,%s,true)",
                            (rank, m.version, m.description, m.script, m.checksum, ms))
                    conn.commit()
                except psycopg2.Error as exc:
                    conn.rollback()
                    ms = int((time.monotonic() - t0) * 1000)
                    conn.autocommit = True
                    with conn.cursor() as fc:
                        fc.execute(
                            "INSERT INTO flyway_schema_history (installed_rank, version, description, type,"
                            " script, checksum, installed_by, execution_time, success)"
                            " VALUES (%s,%s,%s,'SQL',%s,%s,current_user,%s,false)",
                            (rank, m.version, m.description, m.script, m.checksum, ms))
                    pgmsg = (exc.pgerror or str(exc)).strip()
                    detail = (f"Migration {m.script} failed\n-------------------------------\n"
                              f"SQL State  : {exc.pgcode}\nError Code : 0\nMessage    : {pgmsg}\n"
                              f"Location   : db/migration/{m.script} ({m.path})\nLine       : 1\n"
                              f"Statement  : {m.sql.strip()[:200]}")
                    log("ERROR", "o.f.core.internal.command.DbMigrate",
                        f'Migration of schema "public" to version "{m.version} - {m.description}" failed! '
                        "Please restore backups and roll back database and code!")
                    log("ERROR", "o.s.boot.SpringApplication", "Application run failed")
                    log_trace("org.flywaydb.core.internal.command.DbMigrate$FlywayMigrateException",
                              detail, FLYWAY_FRAMES + MAIN_FRAMES,
                              cause=("org.postgresql.util.PSQLException", pgmsg,
                                     ["org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)",
                                      "com.quickbite.backend.db.FlywayConfig.migrate(FlywayConfig.java:41)"]))
                    sys.exit(1)
                finally:
                    conn.autocommit = True
            log("INFO", flog,
                f'Successfully applied {len(pending)} migration{"s" if len(pending) != 1 else ""} '
                f'to schema "public", now at version v{pending[-1].version}')
        finally:
            try:
                cur.execute("SELECT pg_advisory_unlock(%s)", (77431100,))
            except psycopg2.Error:
                pass


# --------------------------------------------------------------------------- health
class RedisError(Exception):
    pass


def _resp_cmd(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def _resp_read(f):
    line = f.readline()
    if not line:
        raise RedisError("Connection closed by server")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode()
    raise RedisError(f"Unexpected reply {line[:20]!r}")


def check_redis():
    with socket.create_connection((CFG.redis_host, CFG.redis_port), timeout=2) as s:
        s.settimeout(2)
        f = s.makefile("rb")
        if CFG.redis_password:
            s.sendall(_resp_cmd("AUTH", CFG.redis_password))
            _resp_read(f)
        s.sendall(_resp_cmd("PING"))
        if _resp_read(f) != "PONG":
            raise RedisError("PING did not answer PONG")
        s.sendall(_resp_cmd("INFO", "server"))
        info = _resp_read(f) or ""
        for line in info.splitlines():
            if line.startswith("redis_version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"


def check_db():
    conn = CFG.db_connect(timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = 2000")
            cur.execute("SELECT 1")
            cur.fetchone()
    finally:
        conn.close()


def health():
    comps = {}
    try:
        check_db()
        comps["db"] = {"status": "UP", "details": {"database": "PostgreSQL", "validationQuery": "isValid()"}}
    except Exception as exc:  # noqa: BLE001
        comps["db"] = {"status": "DOWN", "details": {
            "error": f"org.springframework.jdbc.CannotGetJdbcConnectionException: "
                     f"Failed to obtain JDBC Connection; {exc.__class__.__name__}: {_one_line(exc)}"}}
    try:
        version = check_redis()
        comps["redis"] = {"status": "UP", "details": {"version": version}}
    except Exception as exc:  # noqa: BLE001
        comps["redis"] = {"status": "DOWN", "details": {
            "error": f"org.springframework.data.redis.RedisConnectionFailureException: "
                     f"Unable to connect to Redis; {exc.__class__.__name__}: {_one_line(exc)}"}}
    try:
        du = shutil.disk_usage("/")
        threshold = 10485760
        comps["diskSpace"] = {"status": "UP" if du.free > threshold else "DOWN", "details": {
            "total": du.total, "free": du.free, "threshold": threshold, "path": "/app/.", "exists": True}}
    except OSError as exc:
        comps["diskSpace"] = {"status": "DOWN", "details": {"error": f"java.io.IOException: {exc}"}}
    overall = "UP" if all(c["status"] == "UP" for c in comps.values()) else "DOWN"
    return overall, {"status": overall, "components": comps}


# --------------------------------------------------------------------------- metrics
# /actuator/prometheus as Micrometer's Prometheus registry writes it, fed by the
# requests served: http_server_requests_seconds (a histogram, as with
# management.metrics.distribution.percentiles-histogram.http.server.requests=true),
# and the application's own meters: quickbite.payments (counter, tag outcome),
# quickbite.payment.webhooks (counter, tag outcome) and
# quickbite.websocket.sessions.active (gauge).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)
_metrics_lock = threading.Lock()
_requests = {}  # (method, uri, status, outcome, exception) -> [count, sum, max, [bucket counts]]
_counters = {"quickbite_payments_total": {}, "quickbite_payment_webhooks_total": {}}
_ws_sessions = set()

# Switches the tests flip (POST /actuator/faults, JSON; GET shows them; reset on restart):
# delay_ms (every non-actuator request answers that much later), fail_payments (payment
# events count as failures), webhook_errors (the webhook answers 500), drop_websockets
# (open WebSocket sessions are closed and new ones refused), alloc_mb (a memory leak: that
# many MiB more are allocated and touched, 0.2 s after the answer; in a container with a
# smaller memory limit the kernel OOM-kills the process).
FAULTS = {"delay_ms": 0, "fail_payments": False, "webhook_errors": False, "drop_websockets": False,
          "alloc_mb": 0}
_leaked = []

# webhook_parsed_json: the webhook verifies the signature over the JSON it parsed and serialized
# again (compact, keys in the order received), not over the raw body: the runbook's "raw body,
# not parsed JSON" bug; a body whose bytes differ from that serialization is refused with 400.
FAULTS["webhook_parsed_json"] = False

def _outcome(status):
    if status < 200:
        return "INFORMATIONAL"
    if status < 300:
        return "SUCCESS"
    if status < 400:
        return "REDIRECTION"
    return "CLIENT_ERROR" if status < 500 else "SERVER_ERROR"


def record_request(method, uri, status, seconds):
    key = (method, uri, str(status), _outcome(status), "None")
    with _metrics_lock:
        entry = _requests.setdefault(key, [0, 0.0, 0.0, [0] * len(BUCKETS)])
        entry[0] += 1
        entry[1] += seconds
        entry[2] = max(entry[2], seconds)
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                entry[3][i] += 1


def count(name, outcome):
    with _metrics_lock:
        _counters[name][outcome] = _counters[name].get(outcome, 0) + 1


def _labels(pairs):
    return ",".join(f'{k}="{v}"' for k, v in pairs)


def prometheus_text():
    names = ("method", "uri", "status", "outcome", "exception")
    out = ["# HELP http_server_requests_seconds  ", "# TYPE http_server_requests_seconds histogram"]
    with _metrics_lock:
        requests = sorted((k, (v[0], v[1], v[2], list(v[3]))) for k, v in _requests.items())
        counters = {n: dict(c) for n, c in _counters.items()}
        sessions = len(_ws_sessions)
    for key, (n, total, _max, buckets) in requests:
        lab = _labels(zip(names, key))
        out += [f'http_server_requests_seconds_bucket{{{lab},le="{b}"}} {c}' for b, c in zip(BUCKETS, buckets)]
        out += [f'http_server_requests_seconds_bucket{{{lab},le="+Inf"}} {n}',
                f"http_server_requests_seconds_count{{{lab}}} {n}",
                f"http_server_requests_seconds_sum{{{lab}}} {total}"]
    out += ["# HELP http_server_requests_seconds_max  ", "# TYPE http_server_requests_seconds_max gauge"]
    out += [f"http_server_requests_seconds_max{{{_labels(zip(names, k))}}} {v[2]}" for k, v in requests]
    for name, help_text in (("quickbite_payments_total", "Payments by outcome"),
                            ("quickbite_payment_webhooks_total", "Payment webhooks by outcome")):
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
        out += [f'{name}{{outcome="{o}"}} {float(c)}' for o, c in sorted(counters[name].items())]
    out += ["# HELP quickbite_websocket_sessions_active Open WebSocket sessions",
            "# TYPE quickbite_websocket_sessions_active gauge",
            f"quickbite_websocket_sessions_active {float(sessions)}",
            "# HELP process_uptime_seconds The uptime of the Java virtual machine",
            "# TYPE process_uptime_seconds gauge",
            f"process_uptime_seconds {time.monotonic() - START}"]
    return ("\n".join(out) + "\n").encode()


def set_faults(body):
    changes = json.loads(body or b"{}")
    if not isinstance(changes, dict) or set(changes) - set(FAULTS):
        raise ValueError("unknown switch; known: " + ", ".join(sorted(FAULTS)))
    with _metrics_lock:
        FAULTS.update(changes)
        drop = FAULTS["drop_websockets"]
        sessions = list(_ws_sessions) if drop else []
    for sock in sessions:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    log("WARN", "c.q.backend.web.FaultsEndpoint", "Faults now " + json.dumps(FAULTS, sort_keys=True))
    if int(changes.get("alloc_mb") or 0) > 0:
        threading.Timer(0.2, _leak, (int(changes["alloc_mb"]),)).start()


def _leak(mib):
    """Allocate and touch ``mib`` MiB, 1 MiB at a time (every page written: resident)."""
    for _ in range(mib):
        _leaked.append(b"\x01" * (1 << 20))
    log("WARN", "c.q.backend.web.FaultsEndpoint", f"Leaked {len(_leaked)} MiB")


def _signed_bytes(raw):
    """What the webhook's signature is checked over: the raw body, or with
    webhook_parsed_json the JSON re-serialized (the bug the switch plays)."""
    if not FAULTS["webhook_parsed_json"]:
        return raw
    try:
        return json.dumps(json.loads(raw or b"{}"), separators=(",", ":")).encode()
    except ValueError:
        return raw

# --------------------------------------------------------------------------- JWT
def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_dec(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_sign(claims, secret):
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    sig = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def jwt_verify(token):
    """Returns the claims when the token is valid under JWT_SECRET or JWT_SECRET_PREVIOUS."""
    try:
        header_b64, payload_b64, sig_b64 = token.split(".")
        header = json.loads(_b64url_dec(header_b64))
        if header.get("alg") != "HS256":
            return None
        sig = _b64url_dec(sig_b64)
    except (ValueError, binascii.Error, json.JSONDecodeError):
        return None
    signing = f"{header_b64}.{payload_b64}".encode()
    ok = False
    for secret in (CFG.jwt_secret, CFG.jwt_secret_previous):
        if secret:
            expected = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
            if hmac.compare_digest(expected, sig):
                ok = True
    if not ok:
        return None
    try:
        claims = json.loads(_b64url_dec(payload_b64))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) < time.time():
        return None
    return claims


def check_password(stored, password):
    # pbkdf2_sha256$<iterations>$<salt>$<hex digest>
    try:
        algo, iterations, salt, digest = stored.split("$")
    except (AttributeError, ValueError):
        return False
    if algo != "pbkdf2_sha256":
        return False
    calc = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(calc, digest)


# --------------------------------------------------------------------------- HTTP
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65"
# The uri tag of http_server_requests_seconds: the route template, as Spring MVC reports it.
ROUTES = {p: p for p in ("/actuator/health", "/actuator/health/readiness", "/actuator/health/liveness",
                         "/actuator/info", "/actuator/prometheus", "/actuator/faults", "/api/auth/login",
                         "/api/orders", "/api/payments/webhook", "/ws")}
ROUTES["/actuator/health/"] = "/actuator/health"


def _json_default(o):
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, (datetime.datetime, datetime.date)):
        return o.isoformat()
    return str(o)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QuickBite"
    sys_version = ""

    def log_message(self, fmt, *args):  # silence the default stderr access log
        pass

    def _send(self, status, body=None, content_type="application/json", headers=None):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body, default=_json_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # Recorded before the body goes out, so a client holding the response
        # always finds it counted (the test's scrape followed too fast otherwise).
        path = self.path.split("?", 1)[0]
        record_request(self.command, ROUTES.get(path, "/**" if status == 404 else path), status,
                       time.monotonic() - getattr(self, "_started", time.monotonic()))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        log("INFO", "c.q.backend.web.RequestLoggingFilter", f"{self.command} {path} -> {status}")

    def _error(self, status, error, message):
        self._send(status, {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "status": status, "error": error, "message": message,
            "path": self.path.split("?", 1)[0]})

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    # ---- routes
    def _begin(self, path):
        self._started = time.monotonic()
        if FAULTS["delay_ms"] and not path.startswith("/actuator"):
            time.sleep(FAULTS["delay_ms"] / 1000.0)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        self._begin(path)
        try:
            if path == "/actuator/prometheus":
                self._send(200, prometheus_text(), "text/plain; version=0.0.4; charset=utf-8")
            elif path == "/actuator/faults":
                self._send(200, dict(FAULTS))
            elif path in ("/actuator/health", "/actuator/health/", "/actuator/health/readiness"):
                overall, body = health()
                self._send(200 if overall == "UP" else 503, body,
                           "application/vnd.spring-boot.actuator.v3+json")
            elif path == "/actuator/health/liveness":
                self._send(200, {"status": "UP"}, "application/vnd.spring-boot.actuator.v3+json")
            elif path == "/actuator/info":
                self._send(200, {"app": {"name": "quickbite-backend", "version": VERSION}},
                           "application/vnd.spring-boot.actuator.v3+json")
            elif path == "/api/orders":
                self.orders()
            elif path == "/ws":
                self.websocket()
            else:
                self._error(404, "Not Found", "No static resource " + path.lstrip("/") + ".")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001
            self._internal(exc)

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        self._begin(path)
        try:
            if path == "/actuator/faults":
                try:
                    set_faults(self._body())
                except (ValueError, AttributeError) as exc:
                    return self._error(400, "Bad Request", str(exc))
                self._send(200, dict(FAULTS))
            elif path == "/api/auth/login":
                self.login()
            elif path == "/api/payments/webhook":
                self.webhook()
            else:
                self._error(404, "Not Found", "No static resource " + path.lstrip("/") + ".")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001
            self._internal(exc)

    def _internal(self, exc):
        log("ERROR", "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
            f"Servlet.service() for servlet [dispatcherServlet] threw exception")
        log_trace("java.lang.IllegalStateException", f"{exc.__class__.__name__}: {_one_line(exc)}",
                  ["com.quickbite.backend.web.ApiController.handle(ApiController.java:88)"])
        try:
            self._error(500, "Internal Server Error", "Unexpected error")
        except OSError:
            pass

    def login(self):
        try:
            req = json.loads(self._body() or b"{}")
            email, password = str(req.get("email", "")), str(req.get("password", ""))
        except (ValueError, AttributeError):
            return self._error(400, "Bad Request", "Malformed JSON body")
        conn = CFG.db_connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id, password_hash, role FROM users WHERE email = %s", (email,))
                row = cur.fetchone()
        finally:
            conn.close()
        if not row or not check_password(row[1], password):
            log("WARN", "c.q.backend.auth.AuthController", "Login failed: bad credentials")
            return self._error(401, "Unauthorized", "Bad credentials")
        now = int(time.time())
        token = jwt_sign({"sub": email, "uid": row[0], "role": row[2], "iat": now, "exp": now + 3600},
                         CFG.jwt_secret)
        self._send(200, {"token": token, "tokenType": "Bearer", "expiresIn": 3600})

    def orders(self):
        auth = self.headers.get("Authorization", "")
        claims = jwt_verify(auth[7:].strip()) if auth.startswith("Bearer ") else None
        if claims is None:
            return self._send(401, {"error": "Unauthorized", "message": "Invalid or missing bearer token",
                                    "status": 401, "path": "/api/orders"},
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        conn = CFG.db_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT o.id, u.email, o.restaurant, o.items, o.total_amount, o.currency, o.status,"
                    " o.created_at FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.id")
                cols = [d[0] for d in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        finally:
            conn.close()
        self._send(200, rows)

    def webhook(self):
        raw = self._body()
        sig = (self.headers.get("X-Razorpay-Signature") or "").strip().lower()
        expected = hmac.new(CFG.webhook_secret.encode(), _signed_bytes(raw), hashlib.sha256).hexdigest()
        if not sig or not hmac.compare_digest(expected, sig):
            log("WARN", "c.q.b.payment.RazorpayWebhookController",
                "Rejected payment webhook: Invalid signature (X-Razorpay-Signature mismatch)")
            count("quickbite_payment_webhooks_total", "rejected")
            return self._send(400, {"error": "Invalid signature"})
        if FAULTS["webhook_errors"]:
            count("quickbite_payment_webhooks_total", "error")
            log("ERROR", "c.q.b.payment.RazorpayWebhookController", "Payment webhook processing failed")
            return self._error(500, "Internal Server Error", "Unexpected error")
        try:
            event = json.loads(raw or b"{}").get("event", "unknown")
        except (ValueError, AttributeError):
            event = "unparsable"
        count("quickbite_payment_webhooks_total", "accepted")
        if event in ("payment.captured", "payment.failed"):
            failed = event == "payment.failed" or FAULTS["fail_payments"]
            count("quickbite_payments_total", "failure" if failed else "success")
        log("INFO", "c.q.b.payment.RazorpayWebhookController", f"Accepted payment webhook event={event}")
        self._send(200, {"status": "ok"})

    # ---- WebSocket (RFC 6455): handshake + echo of text/binary frames
    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if "websocket" not in (self.headers.get("Upgrade") or "").lower() or not key:
            return self._error(400, "Bad Request", "Expected a WebSocket upgrade")
        if FAULTS["drop_websockets"]:
            return self._error(503, "Service Unavailable", "WebSocket sessions are being dropped")
        accept = base64.b64encode(hashlib.sha1((key.strip() + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        log("INFO", "c.q.backend.web.RequestLoggingFilter", "GET /ws -> 101")
        record_request("GET", "/ws", 101, time.monotonic() - self._started)
        self.close_connection = True
        with _metrics_lock:
            _ws_sessions.add(self.connection)
        try:
            while True:
                frame = self._ws_read()
                if frame is None:
                    return
                opcode, payload = frame
                if opcode == 0x8:  # close
                    self._ws_send(0x8, payload[:2])
                    return
                if opcode == 0x9:  # ping
                    self._ws_send(0xA, payload)
                elif opcode in (0x1, 0x2):
                    self._ws_send(opcode, payload)
        except (OSError, ValueError):
            return
        finally:
            with _metrics_lock:
                _ws_sessions.discard(self.connection)

    def _ws_read(self):
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode = head[0] & 0x0F
        masked = head[1] & 0x80
        n = head[1] & 0x7F
        if n == 126:
            n = int.from_bytes(self.rfile.read(2), "big")
        elif n == 127:
            n = int.from_bytes(self.rfile.read(8), "big")
        if n > 1 << 20:
            raise ValueError("frame too large")
        mask = self.rfile.read(4) if masked else b""
        payload = self.rfile.read(n)
        if masked:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return opcode, payload

    def _ws_send(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, n])
        elif n < 65536:
            head = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
        self.wfile.write(head + payload)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # Several replicas (docker compose --scale backend=N) share the port.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


_thread_counter = [0]
_counter_lock = threading.Lock()


class NamedServer(Server):
    def process_request(self, request, client_address):
        with _counter_lock:
            _thread_counter[0] = _thread_counter[0] % 200 + 1
            n = _thread_counter[0]
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                             name=f"http-nio-{CFG.server_port}-exec-{n}", daemon=True)
        t.start()


# --------------------------------------------------------------------------- main
def process_uptime():
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            up = float(fh.read().split()[0])
        return max(up - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return time.monotonic() - START


def connect_with_retry():
    deadline = time.monotonic() + CFG.db_wait
    attempt = 0
    while True:
        attempt += 1
        try:
            return CFG.db_connect(timeout=3)
        except psycopg2.OperationalError as exc:
            if time.monotonic() >= deadline:
                msg = _one_line(exc)
                log("ERROR", "com.zaxxer.hikari.pool.HikariPool",
                    f"HikariPool-1 - Exception during pool initialization.")
                fail_startup(
                    "java.lang.IllegalStateException",
                    f"Failed to obtain JDBC Connection to {CFG.db_host}:{CFG.db_port}/{CFG.db_name} "
                    f"after {attempt} attempts",
                    cause=("org.postgresql.util.PSQLException", msg,
                           ["org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:346)",
                            "com.zaxxer.hikari.pool.HikariPool.checkFailFast(HikariPool.java:562)",
                            "com.quickbite.backend.db.DataSourceConfig.dataSource(DataSourceConfig.java:27)"]),
                    frames=["com.zaxxer.hikari.pool.HikariPool.throwPoolInitializationException(HikariPool.java:596)",
                            "com.quickbite.backend.db.FlywayConfig.migrate(FlywayConfig.java:38)"])
            if attempt == 1 or attempt % 5 == 0:
                log("WARN", "com.zaxxer.hikari.pool.HikariPool",
                    f"HikariPool-1 - Connection to {CFG.db_host}:{CFG.db_port} refused or failed, retrying "
                    f"({exc.__class__.__name__})")
            time.sleep(1)


def main():
    global CFG
    log("INFO", "c.q.backend.QuickBiteApplication",
        f"Starting QuickBiteApplication v{VERSION} using Java 17.0.9 with PID {os.getpid()}")
    log("INFO", "c.q.backend.QuickBiteApplication", 'The following 1 profile is active: "prod"')
    CFG = Config()
    # As jjwt does for HS256: a key under 256 bits stops the application at start-up.
    for name, value in (("JWT_SECRET", CFG.jwt_secret), ("JWT_SECRET_PREVIOUS", CFG.jwt_secret_previous)):
        if value and len(value.encode()) < 32:
            fail_startup("io.jsonwebtoken.security.WeakKeyException",
                         f"The specified key byte array for {name} is {len(value.encode()) * 8} bits which is not "
                         "secure enough for any JWT HMAC-SHA algorithm. The JWT JWA Specification (RFC 7518, "
                         "Section 3.2) states that keys used with HMAC-SHA algorithms MUST have a size >= 256 bits.",
                         frames=["io.jsonwebtoken.security.Keys.hmacShaKeyFor(Keys.java:96)",
                                 "com.quickbite.backend.security.JwtService.<init>(JwtService.java:31)"])

    server_ref = {}

    def on_term(signum, _frame):
        log("INFO", "o.s.b.w.e.tomcat.GracefulShutdown", "Commencing graceful shutdown. Waiting for active requests to complete")
        srv = server_ref.get("server")
        if srv is None:
            os._exit(0)
        threading.Thread(target=srv.shutdown, daemon=True).start()
        # Hard stop if shutdown() does not return quickly.
        threading.Timer(0.8, lambda: os._exit(0)).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    log("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Starting...")
    conn = connect_with_retry()
    log("INFO", "com.zaxxer.hikari.pool.HikariPool",
        f"HikariPool-1 - Added connection org.postgresql.jdbc.PgConnection@{id(conn) & 0xffffff:x}")
    log("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed.")
    log("INFO", "o.f.c.internal.license.VersionPrinter", "Flyway Community Edition 9.22.3 by Redgate")
    log("INFO", "o.f.c.i.database.base.BaseDatabaseType",
        f"Database: jdbc:postgresql://{CFG.db_host}:{CFG.db_port}/{CFG.db_name} (PostgreSQL 15)")
    try:
        migrate(conn)
    except psycopg2.Error as exc:
        fail_startup("org.flywaydb.core.internal.exception.FlywaySqlException",
                     f"Unable to migrate schema: {_one_line(exc)}",
                     frames=FLYWAY_FRAMES)
    finally:
        conn.close()

    try:
        server = NamedServer((CFG.bind, CFG.server_port), Handler)
    except OSError as exc:
        fail_startup("org.springframework.boot.web.server.PortInUseException",
                     f"Port {CFG.server_port} is already in use ({exc.strerror})")
    server_ref["server"] = server
    log("INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer",
        f"Tomcat started on port {CFG.server_port} (http) with context path ''")
    elapsed = time.monotonic() - START
    log("INFO", "c.q.backend.QuickBiteApplication",
        f"Started QuickBiteApplication in {elapsed:.3f} seconds (process running for {process_uptime():.3f})")
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("INFO", "o.s.b.w.e.tomcat.GracefulShutdown", "Graceful shutdown complete")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
