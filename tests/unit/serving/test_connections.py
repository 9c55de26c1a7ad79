"""The replica connection pool against real sockets: keep-alive reuse, a replica that closes
idle connections or is gone, slow answers, chunked bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from sagestack.serving.connections import (
    ConnectionPool,
    ReplicaDisconnected,
    ReplicaTimeout,
    ReplicaUnreachable,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


class EchoReplica:
    """A replica that answers bodies upper-cased; `close_after` requests per connection."""

    def __init__(self, *, close_after: int = 0, delay: float = 0.0, chunked: bool = False):
        self.close_after, self.delay, self.chunked = close_after, delay, chunked
        #: Requests answered on each connection, in the order they were opened.
        self.connections: list[int] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(0)
        self.writers.append(writer)
        try:
            while True:
                body = await read_request(reader)
                await asyncio.sleep(self.delay)
                self.connections[-1] += 1
                if self.chunked:
                    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    writer.write(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body.upper()))
                else:
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n"
                    head += b"X-Amzn-SageMaker-Custom-Attributes: a=1\r\n"
                    writer.write(head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body.upper()))
                await writer.drain()
                if self.close_after and self.connections[-1] >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def test_requests_reuse_one_keep_alive_connection() -> None:
    async def scenario() -> None:
        replica = EchoReplica()
        server, address = await serve(replica)
        pool = ConnectionPool()
        for text in (b"a", b"bb", b"ccc"):
            reply = await pool.post(address, "/invocations", text, {"Content-Type": "text/csv"}, 5)
            assert (reply.status, reply.body) == (200, text.upper())
        assert reply.headers["content-type"] == "text/csv"
        assert reply.headers["x-amzn-sagemaker-custom-attributes"] == "a=1"
        assert replica.connections == [3]
        pool.close()
        server.close()

    asyncio.run(scenario())


def test_a_connection_the_replica_closed_is_replaced() -> None:
    async def scenario() -> None:
        replica = EchoReplica(close_after=1)
        server, address = await serve(replica)
        pool = ConnectionPool()
        for _ in range(3):
            await asyncio.sleep(0.01)  # let the close arrive, or not: both must work
            reply = await pool.post(address, "/invocations", b"x", {}, 5)
            assert reply.body == b"X"
        assert replica.connections == [1, 1, 1]
        server.close()

    asyncio.run(scenario())


def test_a_replica_that_is_gone_is_unreachable() -> None:
    async def scenario() -> None:
        replica = EchoReplica()
        server, address = await serve(replica)
        pool = ConnectionPool()
        await pool.post(address, "/invocations", b"x", {}, 5)
        server.close()  # the process dies: no listener, and its connections close
        for writer in replica.writers:
            writer.close()
        with pytest.raises(ReplicaUnreachable):
            await pool.post(address, "/invocations", b"x", {}, 5)

    asyncio.run(scenario())


def test_a_slow_replica_times_out_and_its_connection_is_dropped() -> None:
    async def scenario() -> None:
        replica = EchoReplica(delay=0.3)
        server, address = await serve(replica)
        pool = ConnectionPool()
        with pytest.raises(ReplicaTimeout):
            await pool.post(address, "/invocations", b"x", {}, 0.05)
        assert (await pool.post(address, "/invocations", b"y", {}, 5)).body == b"Y"
        assert len(replica.connections) == 2
        server.close()

    asyncio.run(scenario())


def test_chunked_answers_and_a_replica_dying_mid_request() -> None:
    async def scenario() -> None:
        replica = EchoReplica(chunked=True)
        server, address = await serve(replica)
        pool = ConnectionPool()
        assert (await pool.post(address, "/invocations", b"abc", {}, 5)).body == b"ABC"
        server.close()

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.close()  # dies while working: the request reached it

        dying, dying_address = await serve(hang_up)
        with pytest.raises(ReplicaDisconnected):
            await pool.post(dying_address, "/invocations", b"x", {}, 5)
        dying.close()

    asyncio.run(scenario())
