"""A loopback TCP proxy that can be cut, for database-outage tests and the chaos bench.

`TcpProxy(("127.0.0.1", 5432))` listens on a free loopback port and relays bytes to the target
until told otherwise. Two kinds of outage, because clients meet them differently:

- `refuse()`: the listener closes and every open connection is reset. New connections are refused
  at once; a client that sets no timeout at all still fails fast here.
- `black_hole()`: connections are still accepted but nothing is relayed either way, on new or open
  connections, like a network path that silently drops packets. Only the client's own connect and
  read timeouts end a wait; the proxy's kernel keeps acknowledging what it receives, so TCP-level
  timeouts (`tcp_user_timeout`, keepalives) do not fire, which makes this the stricter test.
- `forward()`: back to normal. A black-holed connection resumes (a healed partition); a connection
  reset during `refuse()` stays closed.

One thread runs a selector loop; every wait in it is bounded, and `close()` ends it. Loopback only.
"""

from __future__ import annotations

import contextlib
import enum
import selectors
import socket
import struct
import threading
from collections.abc import Iterator
from types import TracebackType

_CHUNK = 64 * 1024
_TICK_S = 0.05
_UPSTREAM_CONNECT_TIMEOUT_S = 2.0
_SEND_TIMEOUT_S = 5.0


class Mode(enum.Enum):
    FORWARD = "forward"
    REFUSE = "refuse"
    BLACK_HOLE = "black_hole"


class TcpProxy:
    """Relays one loopback port to `target`; `refuse()`, `black_hole()` and `forward()` switch modes."""

    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.target = target
        self.host = host
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, socket.socket] = {}  # both directions of every relayed pair
        self._held: list[socket.socket] = []  # accepted while black-holed, not yet connected upstream
        self._mode = Mode.FORWARD
        self._wanted = Mode.FORWARD
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._applied = Mode.FORWARD
        self._stop = threading.Event()
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=f"tcp-proxy-{self.port}", daemon=True)
        self._thread.start()

    # --- Control (any thread) -----------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def mode(self) -> Mode:
        return self._applied

    def forward(self) -> None:
        self._switch(Mode.FORWARD)

    def refuse(self) -> None:
        self._switch(Mode.REFUSE)

    def black_hole(self) -> None:
        self._switch(Mode.BLACK_HOLE)

    @contextlib.contextmanager
    def cut(self, mode: Mode) -> Iterator[None]:
        """The outage `mode` for the duration of the block, then forwarding again."""
        self._switch(mode)
        try:
            yield
        finally:
            self.forward()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _switch(self, mode: Mode) -> None:
        """Ask the loop for `mode` and wait (bounded) until it is in force."""
        with self._changed:
            self._wanted = mode
            self._changed.wait_for(lambda: self._applied is mode or self._stop.is_set(), timeout=5)
        if self._applied is not mode:
            raise RuntimeError(f"the proxy did not switch to {mode.value}")

    # --- The loop (its own thread) ------------------------------------------------------------

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(128)
        listener.setblocking(False)
        return listener

    def _run(self) -> None:
        if self._listener is not None:
            self._selector.register(self._listener, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                self._apply_wanted_mode()
                for key, _ in self._selector.select(timeout=_TICK_S):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        self._accept()
                    elif sock in self._peers:
                        self._relay(sock)
        finally:
            for sock in [*self._peers, *self._held]:
                _reset(sock)
            if self._listener is not None:
                self._listener.close()
            self._selector.close()
            with self._changed:
                self._changed.notify_all()

    def _apply_wanted_mode(self) -> None:
        with self._lock:
            wanted = self._wanted
        if wanted is not self._mode:
            if wanted is Mode.REFUSE:
                self._refuse_all()
            elif wanted is Mode.BLACK_HOLE:
                self._stop_relaying()
            else:
                self._resume()
            self._mode = wanted
        with self._changed:
            self._applied = wanted
            self._changed.notify_all()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._mode is Mode.BLACK_HOLE:
            self._held.append(client)
        else:
            self._connect_upstream(client)

    def _connect_upstream(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=_UPSTREAM_CONNECT_TIMEOUT_S)
        except OSError:
            _reset(client)
            return
        for sock in (client, upstream):
            sock.settimeout(_SEND_TIMEOUT_S)
            self._selector.register(sock, selectors.EVENT_READ)
        self._peers[client] = upstream
        self._peers[upstream] = client

    def _relay(self, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(_CHUNK)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        self._drop_pair(sock)

    def _drop_pair(self, sock: socket.socket) -> None:
        peer = self._peers.pop(sock)
        self._peers.pop(peer, None)
        for each in (sock, peer):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(each)
            each.close()

    def _stop_relaying(self) -> None:
        for sock in self._peers:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)

    def _refuse_all(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        for sock in [*self._peers, *self._held]:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            _reset(sock)
        self._peers.clear()
        self._held.clear()

    def _resume(self) -> None:
        if self._listener is None:
            self._listener = self._listen(self.port)
            self._selector.register(self._listener, selectors.EVENT_READ)
        for sock in self._peers:
            if sock.fileno() >= 0:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.register(sock, selectors.EVENT_READ)
        held, self._held = self._held, []
        for client in held:
            self._connect_upstream(client)


def _reset(sock: socket.socket) -> None:
    """Close with an RST (linger 0), as a dead server or a firewall reject looks to the client."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
