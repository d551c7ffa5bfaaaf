#!/usr/bin/env python3
"""The client of the sse-10k benchmark: many concurrent Server-Sent Event streams on loopback, each event's
lateness measured as it arrives. Python's asyncio with one protocol object per connection, no third-party package.

Opens --streams connections to http://127.0.0.1:PORT/PATH, spread evenly over --ramp seconds (so that the streams'
events are spread over each second, as independent clients' would be, rather than all due at the same instant),
sends one GET on each, and counts the events (a blank line ends each) as they arrive. The k-th event of a stream is
scheduled k x --interval after that stream's response head arrived (the server counts each event's delay from the
one before, starting when it writes the head), and its lateness is its arrival minus that schedule. A stream is
done after --events events. Prints one JSON object: the streams opened and completed, the events expected and
received, the lateness percentiles in milliseconds, the client's own event-loop lag (how late a 10 ms sleep woke,
which an event stamped meanwhile was stamped late by too), and the errors seen.

  bench-sse.py --port PORT [--path /sse] [--streams 10000] [--events 10] [--interval 1] [--ramp 1]
"""
import argparse
import asyncio
import gc
import json
import resource
import sys
import time


class Stream(asyncio.Protocol):
    """One SSE connection: finds the end of the head, then stamps every blank line (the end of an event)."""

    def __init__(self, bench):
        self.bench = bench
        self.transport = None
        self.head = b""
        self.head_at = None
        self.tail = b""
        self.events = 0
        self.done = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.bench.request)

    def data_received(self, data):
        now = time.monotonic()
        if self.head_at is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.head.startswith(b"HTTP/1.1 200"):
                self.bench.errors.append("status: " + self.head.split(b"\r\n", 1)[0].decode(errors="replace"))
                self.finish()
                return
            self.head_at = now
            data = self.head[end + 4:]
            self.head = b""
        # Events end with a blank line ("\n\n"); the chunk framing around them ("\r\n") never makes one.
        window = self.tail + data
        count = window.count(b"\n\n")
        self.tail = data[-1:]
        for _ in range(count):
            self.events += 1
            self.bench.lateness.append(now - (self.head_at + self.events * self.bench.interval))
        if self.events >= self.bench.expected_events:
            self.finish()

    def connection_lost(self, exc):
        if not self.done:
            self.bench.errors.append(f"connection lost after {self.events} events: {exc}")
            self.done = True
            self.bench.finished()

    def finish(self):
        if self.done:
            return
        self.done = True
        if self.events >= self.bench.expected_events:
            self.bench.complete += 1
        self.transport.close()
        self.bench.finished()


class Bench:
    def __init__(self, args):
        self.args = args
        self.request = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        self.interval = args.interval
        self.expected_events = args.events
        self.lateness = []
        self.errors = []
        self.complete = 0
        self.opened = 0
        self.ended = 0
        self.all_done = None
        self.loop_lag = []

    async def watch_loop(self):
        """The client's own delay: how late a 10 ms sleep wakes up. An event stamped while the loop was this late
        was stamped late by as much, so the client's lag is reported beside the lateness it could explain."""
        while not self.all_done.done():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.loop_lag.append(time.monotonic() - before - 0.01)

    def finished(self):
        self.ended += 1
        if self.ended >= self.args.streams and not self.all_done.done():
            self.all_done.set_result(None)

    async def open(self, loop):
        try:
            await loop.create_connection(lambda: Stream(self), "127.0.0.1", self.args.port)
            self.opened += 1
        except OSError as error:
            self.errors.append(f"connect: {error}")
            self.finished()

    async def run(self):
        loop = asyncio.get_running_loop()
        self.all_done = loop.create_future()
        watcher = asyncio.ensure_future(self.watch_loop())
        start = time.monotonic()
        tasks = []
        for index in range(self.args.streams):
            due = start + self.args.ramp * index / self.args.streams
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.ensure_future(self.open(loop)))
        await asyncio.gather(*tasks)
        timeout = self.args.ramp + self.args.events * self.args.interval + 30
        try:
            await asyncio.wait_for(self.all_done, timeout=max(1, timeout - (time.monotonic() - start)))
        except asyncio.TimeoutError:
            self.errors.append("timed out waiting for the streams to finish")
        await watcher
        return time.monotonic() - start


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/sse")
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between events")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds over which the connections are opened")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    bench = Bench(args)
    # The collector's full passes over ten thousand connections' objects stall the loop for tens of milliseconds,
    # which would be counted as the server's lateness; nothing here makes cycles worth collecting.
    gc.disable()
    seconds = asyncio.run(bench.run())
    milliseconds = [value * 1000 for value in bench.lateness]
    print(
        json.dumps(
            {
                "streams": args.streams,
                "opened": bench.opened,
                "complete_streams": bench.complete,
                "events_expected": args.streams * args.events,
                "events": len(bench.lateness),
                "lateness_ms": {
                    "p50": percentile(milliseconds, 0.50),
                    "p99": percentile(milliseconds, 0.99),
                    "max": max(milliseconds) if milliseconds else None,
                },
                "client_lag_ms": {
                    "p50": percentile([v * 1000 for v in bench.loop_lag], 0.50),
                    "p99": percentile([v * 1000 for v in bench.loop_lag], 0.99),
                    "max": max(bench.loop_lag) * 1000 if bench.loop_lag else None,
                },
                "errors": len(bench.errors),
                "first_errors": bench.errors[:5],
                "seconds": round(seconds, 2),
            }
        )
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
