"""A real Celery worker for a test: a subprocess on the test's PostgreSQL database and Redis,
reading a queue of its own so parallel tests never take each other's tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the worker's pool processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Worker:
    def __init__(self, *, env: dict[str, str], concurrency: int = 1):
        self.queue = f"test-{uuid.uuid4().hex[:10]}"
        self.env = (
            os.environ
            | {
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": _database_url(),
                "REDIS_URL": settings.REDIS_URL,
                "CELERY_QUEUE": self.queue,
                "CONN_MAX_AGE": "0",
            }
            | env
        )
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        # Not the current app: shared tasks called in the test keep using the real one.
        self.sender = Celery(broker=settings.CELERY_BROKER_URL, set_as_current=False)

    def start(self) -> Worker:
        command = [sys.executable, "-m", "celery", "-A", "timebank", "worker", "-P", "prefork"]
        command += ["-c", str(self.concurrency), "-Q", self.queue, "-n", f"{self.queue}@test"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        self.log = open(f"/tmp/{self.queue}.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: len(children(self.process.pid)) >= self.concurrency, seconds=60)
        return self

    def send(self, task: str, *args) -> None:
        self.sender.send_task(task, args=list(args), queue=self.queue)

    def kill_pool(self) -> None:
        """SIGKILL the pool processes, as the OOM killer would, mid-task."""
        for pid in children(self.process.pid):
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.sender.close()
        self.log.close()

    def output(self) -> str:
        return Path(f"/tmp/{self.queue}.log").read_text()


@contextmanager
def celery_worker(*, env: dict[str, str], concurrency: int = 1):
    worker = Worker(env=env, concurrency=concurrency).start()
    try:
        yield worker
    finally:
        worker.stop()


def wait_for(condition, *, seconds: float = 30, step: float = 0.1):
    """Poll ``condition`` until it is truthy (its value is returned) or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"still false after {seconds} s: {condition}")
