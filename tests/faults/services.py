"""The fault suite's own PostgreSQL cluster, RabbitMQ node and Redis, on ports of their own.

Other test runs on the machine use the shared services (5432, 5672, 6379); the fault suite
restarts and kills its services, so it never touches those. Run the suite through

    python -m tests.faults.services pytest -m faults tests/faults

which starts whatever is not answering yet, runs the command with DATABASE_URL,
CELERY_BROKER_URL and CACHE_URL pointing at them, then stops what it started."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PG_PORT = 5544
PG_CLUSTER = "faults"
RABBIT_PORT = 5673
RABBIT_DIST_PORT = 25673
RABBIT_NODE = "faults@localhost"
REDIS_PORT = 6380
STATE = Path(os.environ.get("FAULTS_STATE_DIR", "/tmp/consular-faults"))  # noqa: S108

DATABASE_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/consular_faults"
BROKER_URL = f"amqp://guest:guest@127.0.0.1:{RABBIT_PORT}//"
CACHE_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, *, timeout: float = 90, up: bool = True) -> float:
    started = time.monotonic()
    while _answers(port) != up:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"port {port} still {'down' if up else 'up'} after {timeout} s")
        time.sleep(0.2)
    return time.monotonic() - started


def _run(*command: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(command, check=True, capture_output=True, env=env)


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def postgres_start() -> bool:
    """Start the suite's cluster, creating it the first time; True if it was not running."""
    if _answers(PG_PORT):
        return False
    version = _pg_version()
    if not Path(f"/etc/postgresql/{version}/{PG_CLUSTER}").exists():
        _run("pg_createcluster", version, PG_CLUSTER, "-p", str(PG_PORT), "--", "--auth=trust")
    _run("pg_ctlcluster", "--skip-systemctl-redirect", version, PG_CLUSTER, "start")
    wait_for_port(PG_PORT)
    return True


def postgres_restart() -> None:
    """A fast restart: every connection is cut, committed data stays."""
    _run("pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), PG_CLUSTER, "restart")
    wait_for_port(PG_PORT)


def postgres_stop() -> None:
    _run("pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), PG_CLUSTER, "stop")


# --- RabbitMQ --------------------------------------------------------------------------------


def _rabbit_env() -> dict[str, str]:
    base = STATE / "rabbitmq"
    return {
        **os.environ,
        "RABBITMQ_NODENAME": RABBIT_NODE,
        "RABBITMQ_NODE_PORT": str(RABBIT_PORT),
        "RABBITMQ_DIST_PORT": str(RABBIT_DIST_PORT),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        # The machine's rabbitmq.conf names the shared node's listener: use our own.
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
    }


def rabbitmqctl(*args: str) -> None:
    _run("rabbitmqctl", "-q", "-n", RABBIT_NODE, *args)


def rabbitmq_start() -> bool:
    if _answers(RABBIT_PORT):
        return False
    base = STATE / "rabbitmq"
    for name in ("mnesia", "log"):
        (base / name).mkdir(parents=True, exist_ok=True)
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.local = 127.0.0.1:{RABBIT_PORT}\nloopback_users = none\n"
    )
    (base / "enabled_plugins").write_text("[].\n")
    shutil.chown(base, "rabbitmq")
    for path in base.rglob("*"):
        shutil.chown(path, "rabbitmq")
    _run("rabbitmq-server", "-detached", env=_rabbit_env())
    wait_for_port(RABBIT_PORT)
    return True


def rabbitmq_stop_app() -> None:
    rabbitmqctl("stop_app")


def rabbitmq_start_app() -> None:
    rabbitmqctl("start_app")
    wait_for_port(RABBIT_PORT)


def rabbitmq_stop() -> None:
    rabbitmqctl("stop")


# --- Redis -----------------------------------------------------------------------------------


def redis_start() -> bool:
    if _answers(REDIS_PORT):
        return False
    (STATE / "redis").mkdir(parents=True, exist_ok=True)
    _run(
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(REDIS_PORT),
        "--save", "", "--appendonly", "no", "--dir", str(STATE / "redis"),
        "--pidfile", str(STATE / "redis" / "redis.pid"),
        "--logfile", str(STATE / "redis" / "redis.log"),
    )  # fmt: skip
    wait_for_port(REDIS_PORT)
    return True


def redis_kill() -> None:
    """SIGKILL, as a crashed cache: no goodbye to its clients."""
    pid = int((STATE / "redis" / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for_port(REDIS_PORT, up=False)


def main(command: list[str]) -> int:
    started = {
        "postgres": postgres_start(),
        "rabbitmq": rabbitmq_start(),
        "redis": redis_start(),
    }
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": CACHE_URL,
    }
    try:
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        if started["redis"]:
            redis_kill()
        if started["rabbitmq"]:
            rabbitmq_stop()
        if started["postgres"]:
            postgres_stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
