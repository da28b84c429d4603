"""Integration tests of the QuickBite reference stack (scripts/stack.sh, stack/).

Runs the real images under the real Docker Engine with host networking. Every
request goes to 127.0.0.1. The session fixture runs `scripts/stack.sh up` on a
directory under /tmp and `scripts/stack.sh reset` at the end (set
QUICKBITE_IT_KEEP=1 to keep the stack running).

The Compose project name is fixed (`quickbite`) and so are the ports, so only one
stack runs per host. When a quickbite stack from another directory already exists
(a demo, or one another suite brought up) the suite reuses it (after an
idempotent `stack.sh up DIR`) and leaves it running; the tests restore what
they change (redis stopped/started, backend scale, a scratch database).
QUICKBITE_IT_TAKEOVER=1 removes such a stack and its volumes instead.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.compose]

ROOT = Path(__file__).resolve().parents[2]
STACK_SH = ROOT / "scripts" / "stack.sh"
PROJECT = "quickbite"
IT_DIR = Path(os.environ.get("QUICKBITE_IT_DIR", "/tmp/quickbite-it-stack"))


# --------------------------------------------------------------------------- helpers
def run(cmd, check=True, timeout=300, **kw):
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def http(method, url, body=None, headers=None, timeout=10):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_for(predicate, timeout=30, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(secret, sub="demo@quickbite.local", ttl=3600):
    now = int(time.time())
    h = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps({"sub": sub, "iat": now, "exp": now + ttl}).encode())
    sig = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


class Stack:
    def __init__(self, directory):
        self.dir = Path(directory)
        self.env = read_env(self.dir / ".env.prod")
        self.api = f"http://127.0.0.1:{self.env['SERVER_PORT']}"
        self.web = f"http://127.0.0.1:{self.env['FRONTEND_PORT']}"
        images = run(["docker", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                      "--filter", "label=com.docker.compose.service=backend",
                      "--format", "{{.Image}}"]).stdout.split()
        self.backend_tag = images[0].split(":", 1)[1] if images else "1.0"
        self.owned = True

    def compose(self, *args, check=True, timeout=180):
        # Keep the backend tag that runs (a reused stack may be on a rolled-back tag).
        env = dict(os.environ, BACKEND_TAG=self.backend_tag)
        return run(["docker", "compose", "-p", PROJECT, "-f", str(self.dir / "docker-compose.prod.yml"),
                    "--env-file", str(self.dir / ".env.prod"), *args], check=check, timeout=timeout, env=env)

    def health(self):
        status, headers, body = http("GET", self.api + "/actuator/health")
        return status, headers, json.loads(body)

    def login(self):
        status, dummy, body = http("POST", self.api + "/api/auth/login",
                                   {"email": "demo@quickbite.local", "password": "demo-password"})
        assert status == 200, body
        return json.loads(body)["token"]

    def pg(self, dbname=None, superuser=False):
        import psycopg2
        return psycopg2.connect(
            host="127.0.0.1", port=int(self.env["POSTGRES_PORT"]),
            dbname=dbname or ("postgres" if superuser else self.env["DB_NAME"]),
            user="postgres" if superuser else self.env["DB_USER"],
            password=self.env["POSTGRES_PASSWORD"] if superuser else self.env["DB_PASSWORD"],
            connect_timeout=5)

    def admin_sql(self, *statements):
        """Runs statements as the postgres superuser outside a transaction (CREATE/DROP DATABASE)."""
        conn = self.pg(superuser=True)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                for st in statements:
                    cur.execute(st)
        finally:
            conn.close()

    def backend_one_off(self, *extra, env=None, volumes=(), timeout=90):
        """`docker compose run` of the backend image with overrides; returns (rc, output)."""
        args = ["run", "--rm", "--no-deps", "-T"]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        for v in volumes:
            args += ["-v", v]
        res = self.compose(*args, "backend", *extra, check=False, timeout=timeout)
        return res.returncode, res.stdout


def _foreign_stacks():
    out = run(["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
               "--filter", "label=com.docker.compose.oneoff=False",
               "--format", '{{.Label "com.docker.compose.project.working_dir"}}'], check=False).stdout
    dirs = {d.strip() for d in out.splitlines() if d.strip()}
    return sorted(d for d in dirs if Path(d) != IT_DIR)


@pytest.fixture(scope="module")
def stack():
    # Module scope: a stack this module made is reset before other modules (which use
    # the demo stack at QUICKBITE_STACK_DIR) run.
    if shutil.which("docker") is None:
        pytest.skip("docker CLI not installed")
    if run(["docker", "info"], check=False).returncode != 0:
        run(["bash", str(ROOT / "scripts" / "dockerd-start.sh")], timeout=120)
    foreign = _foreign_stacks()
    takeover = os.environ.get("QUICKBITE_IT_TAKEOVER") == "1"
    directory, owned = IT_DIR, True
    if foreign and not takeover:
        directory, owned = Path(foreign[0]), False
        if not (directory / ".env.prod").is_file():
            pytest.skip(f"a quickbite stack from {directory} exists but its .env.prod is not readable")
    elif foreign:
        run(["docker", "compose", "-p", PROJECT, "down", "--volumes", "--remove-orphans"], check=False)
    if owned and not (IT_DIR / ".env.prod").exists():
        # Volumes left by another directory hold other passwords: start clean.
        vols = run(["docker", "volume", "ls", "-q", "--filter",
                    f"label=com.docker.compose.project={PROJECT}"]).stdout.split()
        if vols:
            run(["docker", "volume", "rm", *vols])
    t0 = time.monotonic()
    res = run(["bash", str(STACK_SH), "up", str(directory)], check=False, timeout=900)
    print(f"\nstack.sh up took {time.monotonic() - t0:.1f} s: {res.stdout.strip().splitlines()[-1]}")
    assert res.returncode == 0, res.stdout
    s = Stack(directory)
    s.owned = owned
    yield s
    if owned and os.environ.get("QUICKBITE_IT_KEEP") != "1":
        run(["bash", str(STACK_SH), "reset", str(directory)], check=False)


# --------------------------------------------------------------------------- stack.sh / files
def test_env_file_secrets_and_mode(stack):
    env_path = stack.dir / ".env.prod"
    assert oct(env_path.stat().st_mode & 0o777) == "0o600"
    text = env_path.read_text()
    assert not any("CHANGE_ME" in l for l in text.splitlines() if not l.startswith("#"))
    for key in ("POSTGRES_PASSWORD", "DB_PASSWORD", "REDIS_PASSWORD", "JWT_SECRET", "PAYMENT_WEBHOOK_SECRET"):
        assert stack.env[key] and stack.env[key] != "CHANGE_ME", key
        if stack.owned:  # a reused stack may hold rotated secrets in another format
            assert re.fullmatch(r"[0-9a-f]{64}", stack.env[key]), key
    if stack.owned:
        assert stack.env["JWT_SECRET_PREVIOUS"] == ""
    # Same lines, same order, same comments as the example, only the secrets differ.
    example = (ROOT / "stack" / "env.prod.example").read_text().splitlines()
    actual = text.splitlines()
    assert len(example) == len(actual)
    for e, a in zip(example, actual):
        if "CHANGE_ME" in e and not e.startswith("#"):
            assert a.split("=", 1)[0] == e.split("=", 1)[0]
        else:
            assert a == e


def test_up_is_idempotent(stack):
    before = stack.compose("ps", "-q").stdout.split()
    res = run(["bash", str(STACK_SH), "up", str(stack.dir)], timeout=300)
    assert re.search(r"quickbite up: (\d+)/\1 healthy", res.stdout), res.stdout
    after = stack.compose("ps", "-q").stdout.split()
    assert sorted(before) == sorted(after), "a second `up` must not recreate containers"


def test_no_secret_on_any_command_line(stack):
    secrets_ = [stack.env[k] for k in ("POSTGRES_PASSWORD", "DB_PASSWORD", "REDIS_PASSWORD",
                                       "JWT_SECRET", "PAYMENT_WEBHOOK_SECRET")]
    ps = run(["ps", "-eo", "args"]).stdout
    assert "redis-server 127.0.0.1:" in ps
    for s in secrets_:
        assert s not in ps
    conf = stack.compose("exec", "-T", "redis", "stat", "-c", "%a %U",
                         "/run/quickbite-redis/redis.conf").stdout.split()
    assert conf == ["600", "redis"]


def test_services_bind_loopback_only(stack):
    out = run(["docker", "exec", "quickbite-frontend", "cat", "/proc/net/tcp"]).stdout
    ports = {int(stack.env[k]) for k in ("POSTGRES_PORT", "REDIS_PORT", "SERVER_PORT", "FRONTEND_PORT")}
    listening = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        if f[3] == "0A":  # LISTEN
            ip_hex, port_hex = f[1].split(":")
            listening.setdefault(int(port_hex, 16), set()).add(ip_hex)
    for p in ports:
        assert listening.get(p) == {"0100007F"}, (p, listening.get(p))


# --------------------------------------------------------------------------- actuator
def test_actuator_up_with_all_components(stack):
    status, headers, body = stack.health()
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/vnd.spring-boot.actuator.v3+json")
    assert body["status"] == "UP"
    comps = body["components"]
    assert {"db", "redis", "diskSpace"} <= set(comps)
    assert comps["db"] == {"status": "UP", "details": {"database": "PostgreSQL", "validationQuery": "isValid()"}}
    assert comps["redis"]["status"] == "UP" and comps["redis"]["details"]["version"].startswith("7.")
    disk = comps["diskSpace"]["details"]
    assert comps["diskSpace"]["status"] == "UP"
    assert disk["threshold"] == 10485760 and disk["exists"] is True and disk["free"] > 0


def test_redis_stop_gives_503_then_recovers(stack):
    stack.compose("stop", "redis")
    try:
        def down():
            status, dummy, body = stack.health()
            return (status, body) if status == 503 and body["components"]["redis"]["status"] == "DOWN" else None
        status, body = wait_for(down, timeout=20, what="redis DOWN")
        assert body["status"] == "DOWN"
        assert body["components"]["db"]["status"] == "UP"
        assert "RedisConnectionFailureException" in body["components"]["redis"]["details"]["error"]
    finally:
        stack.compose("start", "redis")
    wait_for(lambda: stack.health()[0] == 200, timeout=30, what="actuator UP again")
    assert stack.health()[2]["components"]["redis"]["status"] == "UP"


# --------------------------------------------------------------------------- API
def test_login_and_orders(stack):
    token = stack.login()
    header, payload, dummy = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == "demo@quickbite.local" and claims["exp"] - claims["iat"] == 3600
    status, dummy, body = http("GET", stack.api + "/api/orders", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    orders = json.loads(body)
    assert len(orders) >= 5
    assert len({o["status"] for o in orders}) >= 3
    assert {"id", "restaurant", "total_amount", "status", "created_at"} <= set(orders[0])


def test_bad_login_and_bad_tokens_are_401(stack):
    status = http("POST", stack.api + "/api/auth/login",
                  {"email": "demo@quickbite.local", "password": "wrong"})[0]
    assert status == 401
    for auth in (None, "Bearer " + make_jwt(secrets.token_hex(32)), "Bearer not.a.jwt",
                 "Bearer " + make_jwt(stack.env["JWT_SECRET"], ttl=-10)):
        status, dummy, body = http("GET", stack.api + "/api/orders",
                                   headers={"Authorization": auth} if auth else {})
        assert status == 401, auth
        assert "error" in json.loads(body)
    # A token we sign ourselves with the configured secret is accepted.
    status = http("GET", stack.api + "/api/orders",
                  headers={"Authorization": "Bearer " + make_jwt(stack.env["JWT_SECRET"])})[0]
    assert status == 200


def test_jwt_previous_secret_accepted_after_recreate(stack):
    """Rotation semantics on a one-off backend (own port): new secret signs, old still verifies."""
    old, new = stack.env["JWT_SECRET"], secrets.token_hex(32)
    port = 18090
    cid = stack.compose("run", "-d", "--rm", "--no-deps", "-e", f"SERVER_PORT={port}",
                        "-e", f"JWT_SECRET={new}", "-e", f"JWT_SECRET_PREVIOUS={old}", "backend").stdout.strip().splitlines()[-1]
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _get_status(url + "/actuator/health") == 200, timeout=30, what="one-off backend")
        for secret, expected in ((old, 200), (new, 200), (secrets.token_hex(32), 401)):
            status = http("GET", url + "/api/orders", headers={"Authorization": "Bearer " + make_jwt(secret)})[0]
            assert status == expected
        # SIGTERM handling: the container stops well within a second or two.
        t0 = time.monotonic()
        run(["docker", "stop", "-t", "10", cid])
        assert time.monotonic() - t0 < 3
    finally:
        run(["docker", "rm", "-f", cid], check=False)


def _get_status(url):
    try:
        return http("GET", url, timeout=3)[0]
    except OSError:
        return None


def test_payment_webhook_signature(stack):
    body = json.dumps({"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_T1"}}}}).encode()
    good = hmac.new(stack.env["PAYMENT_WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    status, dummy, resp = http("POST", stack.api + "/api/payments/webhook", body,
                               {"Content-Type": "application/json", "X-Razorpay-Signature": good})
    assert status == 200 and json.loads(resp) == {"status": "ok"}
    bad = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
    status, dummy, resp = http("POST", stack.api + "/api/payments/webhook", body,
                               {"Content-Type": "application/json", "X-Razorpay-Signature": bad})
    assert status == 400 and json.loads(resp) == {"error": "Invalid signature"}
    logs = stack.compose("logs", "--no-color", "backend").stdout
    assert re.search(r" (WARN|ERROR) \d+ --- \[quickbite\] .*Invalid signature", logs)
    # No secret and no token ever reaches the log.
    for key in ("PAYMENT_WEBHOOK_SECRET", "JWT_SECRET", "DB_PASSWORD", "REDIS_PASSWORD"):
        assert stack.env[key] not in logs
    assert not re.search(r"eyJ[\w-]+\.eyJ", logs)


def test_backend_log_format(stack):
    logs = stack.compose("logs", "--no-color", "--no-log-prefix", "backend").stdout
    started = [l for l in logs.splitlines() if "Started QuickBiteApplication in" in l]
    assert started
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  INFO \d+ --- \[quickbite\] \[ {11}main\] "
                    r"c\.q\.backend\.QuickBiteApplication {9}: Started QuickBiteApplication in [\d.]+ seconds",
                    started[0]), started[0]
    assert re.search(r" INFO .*: GET /actuator/health -> 200", logs)


# --------------------------------------------------------------------------- frontend
def test_frontend_spa_and_proxy(stack):
    for path in ("/", "/some/deep/route", "/orders"):
        status, headers, body = http("GET", stack.web + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("text/html")
        assert b'data-app="quickbite"' in body
    status, headers, body = http("GET", stack.web + "/app.js")
    assert status == 200 and b"/api/orders" in body
    status, dummy, body = http("POST", stack.web + "/api/auth/login",
                               {"email": "demo@quickbite.local", "password": "demo-password"})
    assert status == 200
    token = json.loads(body)["token"]
    status, dummy, body = http("GET", stack.web + "/api/orders", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and isinstance(json.loads(body), list)
    assert http("GET", stack.web + "/api/orders")[0] == 401


def test_nginx_config_in_container(stack):
    res = run(["docker", "exec", "quickbite-frontend", "nginx", "-t"])
    assert "syntax is ok" in res.stdout and "test is successful" in res.stdout
    conf = run(["docker", "exec", "quickbite-frontend", "cat", "/etc/nginx/nginx.conf"]).stdout
    assert f"listen 127.0.0.1:{stack.env['FRONTEND_PORT']};" in conf
    assert f"server 127.0.0.1:{stack.env['SERVER_PORT']};" in conf
    assert "proxy_read_timeout 3600s;" in conf and "proxy_send_timeout 3600s;" in conf
    assert "try_files $uri $uri/ /index.html;" in conf
    run(["docker", "exec", "quickbite-frontend", "nginx", "-s", "reload"])
    assert http("GET", stack.web + "/")[0] == 200


def _ws_frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_websocket_through_nginx(stack):
    port = int(stack.env["FRONTEND_PORT"])
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        f = s.makefile("rb")
        status_line = f.readline().decode()
        assert " 101 " in status_line, status_line
        headers = {}
        while True:
            line = f.readline().decode().strip()
            if not line:
                break
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC11B65").encode()).digest()).decode()
        assert headers["sec-websocket-accept"] == expected
        assert headers["upgrade"].lower() == "websocket"
        for msg in ("hello quickbite", "order 42 out for delivery"):
            s.sendall(_ws_frame(msg))
            head = f.read(2)
            assert head[0] == 0x81 and not head[1] & 0x80
            assert f.read(head[1] & 0x7F).decode() == msg
        s.sendall(bytes([0x88, 0x80]) + os.urandom(4))  # close


# --------------------------------------------------------------------------- flyway
def test_flyway_schema_history(stack):
    with stack.pg() as conn, conn.cursor() as cur:
        cur.execute("SELECT column_name, data_type, character_maximum_length, is_nullable "
                    "FROM information_schema.columns WHERE table_name = 'flyway_schema_history' "
                    "ORDER BY ordinal_position")
        cols = cur.fetchall()
        assert cols == [
            ("installed_rank", "integer", None, "NO"),
            ("version", "character varying", 50, "YES"),
            ("description", "character varying", 200, "NO"),
            ("type", "character varying", 20, "NO"),
            ("script", "character varying", 1000, "NO"),
            ("checksum", "integer", None, "YES"),
            ("installed_by", "character varying", 100, "NO"),
            ("installed_on", "timestamp without time zone", None, "NO"),
            ("execution_time", "integer", None, "NO"),
            ("success", "boolean", None, "NO"),
        ]
        cur.execute("SELECT installed_rank, version, description, type, script, checksum, installed_by, success "
                    "FROM flyway_schema_history ORDER BY installed_rank")
        rows = cur.fetchall()
    assert [r[1] for r in rows][:3] == ["1", "2", "3"]
    assert rows[0][2:5] == ("create users", "SQL", "V1__create_users.sql")
    assert all(r[7] is True and r[3] == "SQL" and r[6] == stack.env["DB_USER"] and r[5] is not None for r in rows)


def test_failing_migration_stops_backend(stack):
    """A broken extra migration: first start records success=false and exits 1; the next start
    fails Flyway validation. Runs against a scratch database so the stack stays healthy."""
    scratch = "quickbite_migfail"
    stack.admin_sql(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)",
                    f"CREATE DATABASE {scratch} OWNER {stack.env['DB_USER']}")
    extra = Path(tempfile.mkdtemp(prefix="qb-extra-mig-"))
    try:
        (extra / "V900__add_broken_column.sql").write_text(
            "ALTER TABLE orders ADD COLUMN eta_minutes INT;\nALTER TABLE no_such_table ADD COLUMN x INT;\n")
        extra.chmod(0o755)
        (extra / "V900__add_broken_column.sql").chmod(0o644)
        env = {"DB_NAME": scratch, "SERVER_PORT": "18091",
               "QUICKBITE_EXTRA_MIGRATIONS_DIR": "/opt/quickbite/extra-migrations-test"}
        vol = [f"{extra}:/opt/quickbite/extra-migrations-test:ro"]
        rc, out = stack.backend_one_off(env=env, volumes=vol)
        assert rc == 1, out
        assert re.search(r"^\S+ ERROR \d+ --- \[quickbite\] .*Application run failed", out, re.M), out
        assert "FlywayMigrateException: Migration V900__add_broken_column.sql failed" in out
        assert re.search(r"^\tat com\.quickbite\.", out, re.M)
        assert "no_such_table" in out
        with stack.pg(dbname=scratch) as conn2, conn2.cursor() as cur:
            cur.execute("SELECT version, success FROM flyway_schema_history ORDER BY installed_rank")
            hist = cur.fetchall()
            # The half-applied migration was rolled back with its transaction.
            cur.execute("SELECT count(*) FROM information_schema.columns "
                        "WHERE table_name = 'orders' AND column_name = 'eta_minutes'")
            assert cur.fetchone()[0] == 0
        conn2.close()
        assert hist[-1] == ("900", False) and all(s for dummy, s in hist[:-1])

        rc, out = stack.backend_one_off(env=env, volumes=vol)
        assert rc == 1, out
        assert re.search(
            r"^\S+ ERROR \d+ --- \[quickbite\] .*FlywayValidateException: Validate failed: Migrations have "
            r"failed validation\. Detected failed migration to version 900 \(add broken column\)\. Please remove "
            r"any half-completed changes then run repair to fix the schema history\.", out, re.M), out
    finally:
        shutil.rmtree(extra, ignore_errors=True)
        stack.admin_sql(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    assert stack.health()[0] == 200


def test_unreachable_database_fails_startup(stack):
    rc, out = stack.backend_one_off(env={"DB_PORT": "1", "SERVER_PORT": "18092",
                                         "QUICKBITE_DB_WAIT_SECONDS": "1"})
    assert rc == 1
    assert re.search(r"^\S+ ERROR \d+ --- \[quickbite\] .*Application run failed", out, re.M), out
    assert "java.lang.IllegalStateException: Failed to obtain JDBC Connection" in out
    assert stack.env["DB_PASSWORD"] not in out


# --------------------------------------------------------------------------- scaling
def test_backend_scales_to_three_replicas(stack):
    t0 = time.monotonic()
    replicas_before = len(stack.compose("ps", "-q", "backend").stdout.split())
    stack.compose("up", "-d", "--wait", "--no-recreate", "--scale", "backend=3", timeout=180)
    try:
        names = stack.compose("ps", "--format", "{{.Name}} {{.Health}}", "backend").stdout.split("\n")
        names = [n for n in names if n.strip()]
        assert len(names) == 3 and all(n.endswith("healthy") for n in names), names
        seen = set()
        for dummy in range(30):
            status = stack.health()[0]
            assert status == 200
        # Requests are spread over the replicas by the kernel (SO_REUSEPORT).
        for name in (n.split()[0] for n in names):
            if "GET /actuator/health -> 200" in run(["docker", "logs", name]).stdout:
                seen.add(name)
        assert len(seen) >= 2, seen
    finally:
        stack.compose("up", "-d", "--wait", "--no-recreate", "--scale", f"backend={max(replicas_before, 1)}",
                      timeout=180)
    print(f"scale 1->3->1 took {time.monotonic() - t0:.1f} s")
    assert stack.health()[0] == 200
