"""A small LSP client for tests: JSON-RPC over a server subprocess's stdin and stdout.

Synchronous and self-contained (a reader thread and a queue), so that it works the same
under pytest-xdist and against an installed `gilcheck` in another virtual environment.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

Message = dict[str, Any]


class LspClient:
    """A running language server and the messages it sent."""

    def __init__(self, command: Sequence[str], cwd: Path | None = None, env: Any = None) -> None:
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.incoming: queue.Queue[Message | None] = queue.Queue()
        self.notifications: list[Message] = []
        self.next_id = 0
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    self.incoming.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.incoming.put(json.loads(body))

    def _send(self, message: Message) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _next(self, timeout: float) -> Message:
        try:
            message = self.incoming.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("the server sent nothing in time") from None
        if message is None:
            stderr = self.process.stderr.read().decode() if self.process.stderr else ""
            raise EOFError(f"the server closed its output\n{stderr}")
        if "method" in message and "id" in message:  # a request of the server's: accept it
            self._send({"id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
        return message

    def request(self, method: str, params: Any, timeout: float = 30.0) -> Any:
        """Send a request and wait for its answer (an error answer raises)."""
        self.next_id += 1
        ident = self.next_id
        self._send({"id": ident, "method": method, "params": params})
        while True:
            message = self._next(timeout)
            if message.get("id") == ident and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result")

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._send({"method": method, "params": params})

    def wait_for(
        self, method: str, accept: Callable[[Any], bool] = lambda _: True, timeout: float = 30.0
    ) -> Any:
        """The params of the first notification of `method` that `accept`s (including
        those already received), waiting for it if need be."""
        for seen in self.notifications:
            if seen["method"] == method and accept(seen["params"]):
                self.notifications.remove(seen)
                return seen["params"]
        while True:
            message = self._next(timeout)
            if (
                message.get("method") == method
                and "id" not in message
                and accept(message["params"])
            ):
                self.notifications.remove(message)
                return message["params"]

    def initialize(self, root: Path) -> Any:
        """The handshake: `initialize`, then `initialized`."""
        result = self.request(
            "initialize",
            {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
        )
        self.notify("initialized", {})
        return result

    def close(self) -> int:
        """`shutdown` and `exit`; the server's exit code."""
        try:
            if self.process.poll() is None:
                self.request("shutdown", None, timeout=10)
                self.notify("exit", None)
            return self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
