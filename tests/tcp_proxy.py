"""A TCP forwarder that can be cut: the database (or any server) "goes down" for the process
behind it — connections refused and open ones dropped — and comes back, while the real server
other tests use keeps running."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener: socket.socket | None = None
        self.port = 0
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut every open one."""
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            for s in list(self.open):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy((host, port))
    proxy.up()
    try:
        yield proxy
    finally:
        proxy.down()


class ProxyProcess:
    """The forwarder in a process of its own, for heavy traffic: in the test's process its threads
    would share one interpreter lock with the load generator and slow every byte (a Redis behind it
    would look slow to the processes using it). SIGUSR1 cuts it, SIGUSR2 brings it back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.tcp_proxy", target[0], str(target[1])],
                                        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def _signal(self, signum: int) -> None:
        self.process.send_signal(signum)
        time.sleep(0.2)  # the signal is handled between two accepts

    def down(self) -> None:
        self._signal(signal.SIGUSR1)

    def up(self) -> None:
        self._signal(signal.SIGUSR2)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _main() -> None:
    proxy = TcpProxy((sys.argv[1], int(sys.argv[2])))
    proxy.up()
    print(proxy.port, flush=True)
    signal.signal(signal.SIGUSR1, lambda *_: proxy.down())
    signal.signal(signal.SIGUSR2, lambda *_: proxy.up() if proxy.listener is None else None)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    _main()
