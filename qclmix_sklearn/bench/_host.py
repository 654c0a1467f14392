"""Job hosts: one persistent child interpreter per worker thread that runs its jobs one by one.

A worker (a loky process, a Dask or a Ray worker) sends each job to its host and waits for the
result, at most the job's time limit; a host that runs over is killed, and the next job starts a
fresh one. A host imports the models' libraries once and keeps the datasets it was sent, so that a
job costs its own computing time only, not an interpreter's start-up. A host dies with its worker:
``PR_SET_PDEATHSIG`` on Linux, and everywhere a check of its parent every 0.2 s.

A host (:func:`main`, with the worker's pid as its argument) reads length-prefixed pickled jobs on
stdin and writes their pickled results on stdout until stdin closes.
"""

import collections
import ctypes
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

_LENGTH = struct.Struct("!Q")
#: datasets a host keeps (the latest ones sent): the jobs of a suite come dataset by dataset
_KEPT_DATASETS = 2
_POLL_SECONDS = 0.2


def _remember(datasets, key, data=None):
    """Keep ``data`` under ``key`` in ``datasets`` (an OrderedDict), forgetting the oldest ones.

    The worker keeps the keys only, the host the data too: both forget the same ones.
    """
    datasets[key] = data
    datasets.move_to_end(key)
    while len(datasets) > _KEPT_DATASETS:
        datasets.popitem(last=False)


def _send(file, payload):
    file.write(_LENGTH.pack(len(payload)))
    file.write(payload)
    file.flush()


def _receive(file):
    """The next message's bytes; ``None`` at the end of the stream."""
    head = file.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    payload = file.read(size)
    return payload if len(payload) == size else None


def is_local_owner(owner):
    """Whether ``owner``, the (host, pid) of a run's main process, is another process here."""
    return owner is not None and owner[0] == socket.gethostname() and owner[1] != os.getpid()


_watched_run = []  # the run this worker process dies with, once watched


def die_with_run(owner):
    """In a worker process started by the run ``owner`` (host, pid), exit when that run is gone.

    A loky worker would otherwise finish its job (hours, for some models) after kill -9 of the
    run. Only a worker whose parent is the run dies with it: a Dask or Ray worker serves others.
    """
    if _watched_run or not is_local_owner(owner) or os.getppid() != owner[1]:
        return
    _watched_run.append(owner)
    exit_with_parent()


def dies_with_run(owner):
    """Whether this process ends with the run ``owner``: it is that run, or one of its workers."""
    here = owner is not None and owner[0] == socket.gethostname()
    return owner is None or (here and owner[1] == os.getpid()) or bool(_watched_run)


def exit_with_parent(poll_seconds=_POLL_SECONDS):
    """Exit this process within ``poll_seconds`` of its parent's death (no orphan computes on)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class HostDied(RuntimeError):
    """The host exited during a job (e.g. a crash of compiled code, an out-of-memory kill)."""


class JobHost:
    """The worker's side of one host, started on first use and restarted after a kill."""

    def __init__(self):
        self.process = None
        self.datasets = collections.OrderedDict()  # the data keys that the host holds

    def _start(self, stop):
        # the worker's sys.path: the host imports what the worker can (e.g. a test's models)
        code = f"import sys; sys.path[:] = {sys.path!r}; from {__name__} import main; main()"
        command = [sys.executable, "-c", code, str(os.getpid())]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.datasets.clear()
        self._wait(stop)  # its imports are not part of any job's time
        if _receive(self.process.stdout) is None:
            raise HostDied(self._died("the job host could not start"))

    def kill(self):
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stdout):
                pipe.close()
            self.process = None

    def run(self, job, timeout=None, stop=None):
        """``job``'s result; ``None`` when it ran over ``timeout`` seconds (the host is killed).

        ``stop()`` is called every 0.2 s while the job runs; what it raises stops the job.
        """
        try:
            if self.process is None or self.process.poll() is not None:
                self.kill()
                self._start(stop)
            known = job.data_key is not None and job.data_key in self.datasets
            deadline = time.perf_counter() + timeout if timeout else None
            try:
                _send(self.process.stdin, pickle.dumps(job.without_data() if known else job))
            except BrokenPipeError:
                raise HostDied(self._died("the job's process died")) from None
            if job.data_key is not None:
                _remember(self.datasets, job.data_key)
            if not self._wait(stop, deadline):
                self.kill()
                return None
            payload = _receive(self.process.stdout)
            if payload is None:
                raise HostDied(self._died("the job's process died"))
            return pickle.loads(payload)
        except BaseException:
            self.kill()
            raise

    def _wait(self, stop, deadline=None):
        """Wait for the host's next message; False when ``deadline`` passes first."""
        while True:
            if stop is not None:
                stop()
            remaining = _POLL_SECONDS
            if deadline is not None:
                remaining = min(remaining, deadline - time.perf_counter())
                if remaining <= 0:
                    return False
            if select.select([self.process.stdout], [], [], remaining)[0]:
                return True

    def _died(self, what):
        return f"{what} (exit code {self.process.wait()})"


def _die_with_parent(parent):
    if sys.platform.startswith("linux"):
        try:  # SIGKILL when the worker thread that started this host ends
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the worker died before the line above
        os._exit(1)
    exit_with_parent(_POLL_SECONDS)


def main():
    """Run the jobs that arrive on stdin, one by one, until stdin closes."""
    from ._job import execute

    _die_with_parent(int(sys.argv[1]))
    # Ctrl-C reaches the whole process group: the worker decides, and kills this host if need be.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what a model prints goes to stderr, never into the results
    jobs = sys.stdin.buffer
    _send(results, b"")  # ready
    datasets = collections.OrderedDict()  # data key -> (X, y), the latest used last
    while (payload := _receive(jobs)) is not None:
        try:
            job = pickle.loads(payload)
        except Exception as exc:  # noqa: BLE001 - e.g. a suite file that no longer imports
            _send(results, pickle.dumps({"host_error": f"unpickling the job failed: {exc!r}"}))
            continue
        if job.data_key is not None:
            if job.X is None:
                job.X, job.y = datasets[job.data_key]
            _remember(datasets, job.data_key, (job.X, job.y))
        result = execute(job)
        try:
            payload = pickle.dumps(result)
        except Exception as exc:  # noqa: BLE001 - e.g. best_params holding an unpicklable object
            payload = pickle.dumps({"host_error": f"pickling the result failed: {exc!r}"})
        _send(results, payload)
