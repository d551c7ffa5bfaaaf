#!/usr/bin/env python3
"""Faultline's benchmark suite: each benchmark against Faultline and against nginx configured for the same work,
alternating them, on loopback only, with bounded durations. Prints one table (Faultline, nginx, ratio; medians of
several runs) and writes it as JSON to --out. Run it through scripts/bench, which installs the tools first."""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=30, insecure_context=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1, context=insecure_context) as response:
                if response.status == 200:
                    return True
        except Exception:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    except Exception:
        return []


class Faultline:
    """A faultline serve process."""

    def __init__(self, binary, scenario, port, extra=(), tls_port=None):
        self.port = port
        args = [binary, "serve", scenario, "--port", str(port), "--log-level", "error"] + list(extra)
        if tls_port:
            args += ["--tls-port", str(tls_port)]
        self.started = time.monotonic()
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def pids(self):
        return [self.process.pid]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class NIOExample:
    """SwiftNIO's own NIOHTTP1Server example (built in release mode by scripts/bench): the ceiling of the HTTP/1
    pipeline Faultline is built on. Any path that does not start with /dynamic, /sendfile/ or /fileio/ gets a 200
    with the body "Hello World\r\n" and a content-length header."""

    def __init__(self, binary, port):
        self.port = port
        self.started = time.monotonic()
        self.process = subprocess.Popen([binary, "127.0.0.1", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def pids(self):
        return [self.process.pid]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Nginx:
    """An nginx master and its workers, with a configuration of our own in a temporary folder."""

    def __init__(self, workdir, port, tls_port=None, cert=None, key=None, root=None, h2_port=None, proxy_to=None):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=workdir)
        echo_module = None
        for candidate in ["/usr/lib/nginx/modules/ngx_http_echo_module.so", "/usr/share/nginx/modules/ngx_http_echo_module.so"]:
            if os.path.exists(candidate):
                echo_module = candidate
        self.has_echo = echo_module is not None
        tls = ""
        if tls_port:
            tls = f"""
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location = /static {{ default_type text/plain; return 200 "ok"; }}
    }}"""
        if h2_port:
            # HTTP/2 in plaintext by prior knowledge (nginx 1.22's `listen ... http2` without ssl), as h2load speaks it.
            tls += f"""
    server {{
        listen 127.0.0.1:{h2_port} http2;
        location = /static {{ default_type text/plain; return 200 "ok"; }}
    }}"""
        # As a reverse proxy (the proxy benchmark): proxy_pass to an upstream over kept-alive HTTP/1.1 connections,
        # the fast way to configure it.
        origin = f"upstream origin {{ server 127.0.0.1:{proxy_to}; keepalive 64; }}" if proxy_to else ""
        locations = (
            'location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }'
            if proxy_to
            else f"""location = /static {{ default_type text/plain; return 200 "ok"; }}
        location = /delay {{ {"echo_sleep 1; echo ok;" if echo_module else "return 501;"} }}
        location /files/ {{ alias {root or self.dir}/; }}"""
        )
        config = f"""
{"load_module " + echo_module + ";" if echo_module else ""}
worker_processes {os.cpu_count() or 1};
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log error;
events {{ worker_connections 20000; }}
worker_rlimit_nofile 40000;
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    {origin}
    server {{
        listen 127.0.0.1:{port} backlog=16384;
        {locations}
    }}{tls}
}}
"""
        with open(f"{self.dir}/nginx.conf", "w") as f:
            f.write(config)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            ["nginx", "-c", f"{self.dir}/nginx.conf", "-p", self.dir, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def pids(self):
        return [self.process.pid] + children(self.process.pid)

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk(url, connections, seconds, extra=(), threads=2):
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"] + list(extra) + [url],
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latencies = {}
    for label in ["50%", "99%"]:
        match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out)
        if match:
            latencies[label] = seconds_of(match.group(1), match.group(2))
    match = re.search(r"Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)", out)
    if match:
        latencies["max"] = seconds_of(match.group(1), match.group(2))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rate": rate,
        "latency": latencies,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "requests": int(total.group(1)) if total else 0,
        "raw": out,
    }


def h2load(url, requests, clients, streams):
    """h2load (nghttp2-client) over HTTP/2 by prior knowledge: `clients` connections with `streams` concurrent streams
    each; returns the rate and the failed count."""
    out = subprocess.run(
        ["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams), url], capture_output=True, text=True
    ).stdout
    rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    failed = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", out)
    return {
        "rate": float(rate.group(1)) if rate else None,
        "failed": int(failed.group(2)) if failed else None,
        "raw": out,
    }


def seconds_of(value, unit):
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def median(values):
    return statistics.median(values) if values else None


class Bench:
    def __init__(self, args):
        self.args = args
        self.binary = args.binary
        self.work = tempfile.mkdtemp(prefix="faultline-bench-")
        # nginx's workers run as another user and must read the files served from here.
        os.chmod(self.work, 0o755)
        self.results = []
        self.notes = []
        self.response_sizes = {}
        self.scenarios = {}
        self.write_scenarios()

    def write_scenarios(self):
        static = "version: 1\nrules:\n  - {path: /static, body: ok}\n  - {path: /delay, delay: 1s, body: ok}\n"
        many = ["version: 1", "rules:"]
        for index in range(500):
            many.append(f"  - {{path: /api/v1/resource{index}, body: r{index}}}")
            many.append(f"  - {{path: /api/v2/items{index}/*/detail, body: g{index}}}")
        many.append("  - {path: /static, body: ok}")
        files = "version: 1\nrules:\n  - {path: /files/big.bin, bodyFile: big.bin}\n"
        # sse-10k: ten events a second apart on every stream (plus /static for the readiness probe).
        ticks = "".join(f"      - {{data: tick {n}, id: \"{n}\", delay: 1s}}\n" for n in range(1, 11))
        sse = "version: 1\nrules:\n  - {path: /static, body: ok}\n  - path: /sse\n    events:\n" + ticks
        empty = "version: 1\nrules: []\n"
        for name, text in [("static.yaml", static), ("many.yaml", "\n".join(many) + "\n"), ("files.yaml", files), ("sse.yaml", sse), ("empty.yaml", empty)]:
            path = os.path.join(self.work, name)
            with open(path, "w") as f:
                f.write(text)
            self.scenarios[name] = path

    def record(self, name, faultline, nginx, unit, higher_is_better, target, note="", ceiling=None):
        ratio = None
        if faultline is not None and nginx:
            ratio = faultline / nginx if higher_is_better else nginx / faultline
        ceiling_ratio = None
        if faultline is not None and ceiling:
            ceiling_ratio = faultline / ceiling if higher_is_better else ceiling / faultline
        met = None
        if target is not None:
            met = target(faultline, nginx, ratio)
        self.results.append(
            {
                "benchmark": name,
                "faultline": faultline,
                "nginx": nginx,
                "nio": ceiling,
                "unit": unit,
                "ratio": ratio,
                "nio_ratio": ceiling_ratio,
                "target": note,
                "met": met,
            }
        )
        ceiling_text = f", NIO example {fmt(ceiling)} {unit} (ratio {fmt(ceiling_ratio)})" if ceiling is not None else ""
        log(f"  {name}: faultline {fmt(faultline)} {unit}, nginx {fmt(nginx)} {unit}, ratio {fmt(ratio)}{ceiling_text}")

    # MARK: - The benchmarks

    def throughput(self, make_faultline, make_nginx, path, scheme="http", extra=(), runs=None, connections=64):
        rates = self.alternating(
            {"faultline": make_faultline, "nginx": make_nginx}, path, scheme=scheme, extra=extra, runs=runs, connections=connections
        )
        return rates["faultline"], rates["nginx"]

    def alternating(self, makers, path, scheme="http", extra=(), runs=None, connections=64, rounds=None):
        """wrk against each server of `makers` (kind -> function of a port; None skips the kind) in turn, `runs`
        rounds; returns the median rate of each kind (and, in `rounds` when a dict is given, each kind's rate of every
        round). The first round also records each server's response size."""
        runs = runs or self.args.runs
        rates = {kind: [] for kind in makers}
        for round_index in range(runs):
            for kind, make in makers.items():
                if make is None:
                    continue
                port = free_port()
                server = make(port)
                try:
                    wait_for(f"http://127.0.0.1:{server.port}/static")
                    target_port = getattr(server, "tls_port", None) or port
                    url = f"{scheme}://localhost:{target_port}{path}" if scheme == "https" else f"http://127.0.0.1:{port}{path}"
                    if round_index == 0 and scheme == "http" and (path, kind) not in self.response_sizes:
                        self.response_sizes[(path, kind)] = response_size(port, path)
                    result = wrk(url, connections, self.args.seconds, extra)
                    if result["non2xx"] or result["errors"]:
                        log(f"    {kind}: {result['non2xx']} non-2xx, {result['errors']} socket errors")
                    rates[kind].append(result["rate"])
                    log(f"    {kind}: {result['rate']:,.0f} req/s")
                finally:
                    server.stop()
        if rounds is not None:
            rounds.update(rates)
        return {kind: median(values) for kind, values in rates.items()}

    def run(self):
        log(f"benchmarking {self.binary} against nginx in {self.work}")
        groups = {
            "static": self.static_group,
            "delay-10k": self.delay_10k,
            "sse-10k": self.sse_10k,
            "startup": self.startup,
            "idle-rss": self.idle_rss,
            "tls": self.tls,
            "h2-static": self.h2_static,
            "download-1g": self.download,
            "proxy": self.proxy,
        }
        only = self.args.only or set(groups)
        unknown = only - set(groups)
        if unknown:
            raise SystemExit(f"--only takes {', '.join(groups)}; not {', '.join(sorted(unknown))}")
        if self.args.only:
            log(f"only: {', '.join(sorted(only))}")
        for name, run in groups.items():
            if name in only:
                run()

    def static_group(self):
        """static against the NIO example and nginx, and static-1k-rules and journal-on against Faultline's own
        static: all five in the same rounds, in turn, so that what the shared machine does meanwhile falls on each
        alike; the two ratios to Faultline's own static are the medians of each round's ratio."""

        log("static: keep-alive GET of a fixed 200, 64 connections; in the same rounds static-1k-rules (1,000 other "
            "rules before the match) and journal-on (--journal FILE)")
        nio = (lambda port: NIOExample(self.args.nio_binary, port)) if self.args.nio_binary else None
        journal = os.path.join(self.work, "journal.jsonl")
        rounds = {}
        rates = self.alternating(
            {
                "faultline": lambda port: Faultline(self.binary, self.scenarios["static.yaml"], port),
                "nio": nio,
                "nginx": lambda port: Nginx(self.work, port),
                "static-1k-rules": lambda port: Faultline(self.binary, self.scenarios["many.yaml"], port),
                "journal-on": lambda port: Faultline(
                    self.binary, self.scenarios["static.yaml"], port, ["--journal", journal]
                ),
            },
            "/static",
            rounds=rounds,
        )
        try:
            os.remove(journal)
        except FileNotFoundError:
            pass
        f, n, ceiling = rates["faultline"], rates["nginx"], rates["nio"]
        self.record(
            "static",
            f,
            n,
            "req/s",
            True,
            lambda f, n, r: r is not None and r >= 0.55 and ceiling is not None and f / ceiling >= 0.95,
            ">= 0.95x the NIO example and >= 0.55x nginx",
            ceiling=ceiling,
        )
        sizes = ", ".join(
            f"{label} {self.response_sizes[('/static', kind)][0]} bytes (body {self.response_sizes[('/static', kind)][1]})"
            for kind, label in [("faultline", "Faultline"), ("nio", "NIO example"), ("nginx", "nginx")]
            if ("/static", kind) in self.response_sizes
        )
        self.notes.append(
            "static: Faultline answers GET /static from a rule with body `ok`; the NIO example (SwiftNIO's "
            "NIOHTTP1Server, release build) answers any plain path with `Hello World\\r\\n` and only content-length; "
            f"nginx `return 200 \"ok\"`. Whole responses: {sizes}."
        )
        for name, target, threshold in [
            ("static-1k-rules", ">= 0.95x Faultline's own static", 0.95),
            ("journal-on", ">= 0.9x Faultline's own static", 0.9),
        ]:
            ratios = [other / own for other, own in zip(rounds[name], rounds["faultline"]) if own]
            ratio = median(ratios) if ratios else None
            self.results.append(
                {
                    "benchmark": name,
                    "faultline": rates[name],
                    "nginx": None,
                    "unit": "req/s",
                    "ratio": ratio,
                    "ratio_of": "static",
                    "target": target,
                    "met": bool(ratio and ratio >= threshold),
                }
            )
            log(f"  {name}: {fmt(rates[name])} req/s, {fmt(ratio)} of static (rounds: "
                f"{', '.join(fmt(r) for r in ratios)})")

    def proxy(self):
        """Faultline in front of an nginx upstream (`serve --upstream`) against nginx's own proxy_pass to the same
        upstream, alternating, keep-alive, 64 connections."""
        log("proxy: keep-alive GET through a reverse proxy to one nginx upstream, 64 connections")
        origin_port = free_port()
        origin = Nginx(self.work, origin_port)
        try:
            wait_for(f"http://127.0.0.1:{origin_port}/static")
            f, n = self.throughput(
                lambda port: Faultline(
                    self.binary, self.scenarios["empty.yaml"], port, ["--upstream", f"http://127.0.0.1:{origin_port}"]
                ),
                lambda port: Nginx(self.work, port, proxy_to=origin_port),
                "/static",
            )
        finally:
            origin.stop()
        self.record("proxy", f, n, "req/s", True, lambda f, n, r: r is not None and r >= 0.5, ">= 0.5x nginx proxy_pass")
        self.notes.append(
            "proxy: GET /static (nginx `return 200 \"ok\"`) through `faultline serve --upstream` and through nginx "
            "`proxy_pass` (HTTP/1.1, `keepalive 64` to the upstream), both to the same nginx upstream, alternating; "
            "the upstream's two workers, the proxy and wrk share the machine's cores."
        )

    def delay_10k(self):
        connections = self.args.delay_connections
        log(f"delay-10k: {connections} concurrent connections on a 1 s delay")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        rows = {"faultline": [], "nginx": []}
        peaks = []
        for _ in range(self.args.runs):
            for kind in ["faultline", "nginx"]:
                port = free_port()
                server = (
                    Faultline(self.binary, self.scenarios["static.yaml"], port)
                    if kind == "faultline"
                    else Nginx(self.work, port)
                )
                try:
                    wait_for(f"http://127.0.0.1:{port}/static")
                    if kind == "nginx" and not server.has_echo:
                        log("    nginx has no echo module; skipping its delayed baseline")
                        continue
                    result = wrk(f"http://127.0.0.1:{port}/delay", connections, self.args.delay_seconds)
                    answered = result["requests"] > 0 and result["errors"] == 0 and result["non2xx"] == 0
                    rows[kind].append((result["latency"], answered, result["errors"]))
                    if kind == "faultline":
                        peaks.append(peak_rss_kib(server.process.pid) / 1024)
                finally:
                    server.stop()

        def pick(kind, label):
            values = [latency.get(label) for latency, _, _ in rows[kind] if latency.get(label) is not None]
            return median(values)

        f99, n99 = pick("faultline", "99%"), pick("nginx", "99%")
        all_answered = all(answered for _, answered, _ in rows["faultline"]) and rows["faultline"]
        self.record(
            "delay-10k p99",
            f99,
            n99,
            "s",
            False,
            lambda f, n, r: bool(all_answered and f is not None and n is not None and f - n <= 0.025),
            "every request answered, p99 within 25 ms of nginx's",
        )
        self.record("delay-10k p50", pick("faultline", "50%"), pick("nginx", "50%"), "s", False, None)
        self.record("delay-10k max", pick("faultline", "max"), pick("nginx", "max"), "s", False, None)
        peak = median(peaks)
        self.results.append(
            {
                "benchmark": "delay-10k peak RSS",
                "faultline": peak,
                "nginx": None,
                "unit": "MB",
                "ratio": None,
                "target": "< 120 MB",
                "met": bool(peak is not None and peak < 120),
            }
        )
        log(f"  delay-10k peak RSS: {fmt(peak)} MB; socket errors: {[e for _, _, e in rows['faultline']]}")

    def sse_10k(self):
        """10,000 concurrent SSE streams, each receiving one event per second for 10 s (scripts/bench-sse.py, a
        Python asyncio client, opening the streams over one second): every event delivered, the p99 lateness of an
        event (arrival minus its schedule) and Faultline's peak resident memory."""
        streams = self.args.sse_streams
        log(f"sse-10k: {streams} concurrent SSE streams, one event a second for 10 s")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        runs = []
        for _ in range(self.args.sse_runs):
            port = free_port()
            server = Faultline(self.binary, self.scenarios["sse.yaml"], port)
            try:
                wait_for(f"http://127.0.0.1:{port}/static")
                client = subprocess.run(
                    [sys.executable, os.path.join(ROOT, "scripts", "bench-sse.py"), "--port", str(port), "--streams", str(streams)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                result = json.loads(client.stdout)
                result["peak_rss_mb"] = peak_rss_kib(server.process.pid) / 1024
                runs.append(result)
                log(
                    f"    {result['events']:,} of {result['events_expected']:,} events, {result['complete_streams']:,} complete streams, "
                    f"lateness p50 {fmt(result['lateness_ms']['p50'])} ms, p99 {fmt(result['lateness_ms']['p99'])} ms, "
                    f"max {fmt(result['lateness_ms']['max'])} ms (the client's own loop lag p99 {fmt(result['client_lag_ms']['p99'])} ms); "
                    f"peak RSS {fmt(result['peak_rss_mb'])} MB; errors {result['errors']} "
                    f"{result['first_errors']}"
                )
            finally:
                server.stop()
        delivered = bool(runs) and all(r["events"] == r["events_expected"] and r["errors"] == 0 for r in runs)
        for name, value, unit, target, met in [
            (
                "sse-10k events delivered",
                median([r["events"] / r["events_expected"] for r in runs]) if runs else None,
                "share",
                "every event (1.0)",
                delivered,
            ),
            ("sse-10k p99 lateness", median([r["lateness_ms"]["p99"] for r in runs]), "ms", "< 50 ms", None),
            ("sse-10k max lateness", median([r["lateness_ms"]["max"] for r in runs]), "ms", "", None),
            ("sse-10k peak RSS", median([r["peak_rss_mb"] for r in runs]), "MB", "< 200 MB", None),
        ]:
            if unit == "ms" and target:
                met = value is not None and value < 50
            if unit == "MB":
                met = value is not None and value < 200
            self.results.append(
                {"benchmark": name, "faultline": value, "nginx": None, "unit": unit, "ratio": None, "target": target, "met": met}
            )
        self.notes.append(
            f"sse-10k: {streams:,} streams opened over 1 s by scripts/bench-sse.py (Python asyncio, one process), each "
            "GET /sse answered with ten events 1 s apart; an event's lateness is its arrival minus (its stream's head "
            "arrival + k s), stamped by a client whose own loop lag is measured beside it (its garbage collector off); medians of "
            f"{len(runs)} run{'s' if len(runs) != 1 else ''}."
        )

    def startup(self):
        log("startup: process start to the first 200, median of 20")
        times = {"faultline": [], "nginx": []}
        for _ in range(self.args.startups):
            for kind in ["faultline", "nginx"]:
                port = free_port()
                start = time.monotonic()
                server = (
                    Faultline(self.binary, self.scenarios["static.yaml"], port)
                    if kind == "faultline"
                    else Nginx(self.work, port)
                )
                try:
                    first_200(port)
                    times[kind].append(time.monotonic() - start)
                finally:
                    server.stop()
        f, n = median(times["faultline"]), median(times["nginx"])
        self.record("startup", f * 1000, n * 1000, "ms", False, lambda f, n, r: f <= 10, "<= 10 ms")

    def idle_rss(self):
        log("idle-rss: resident memory 2 s after start with the default scenario")
        port = free_port()
        process = subprocess.Popen([self.binary, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        faultline = rss_kib([process.pid]) / 1024
        process.send_signal(signal.SIGTERM)
        process.wait()
        nginx_port = free_port()
        nginx = Nginx(self.work, nginx_port)
        time.sleep(2)
        baseline = rss_kib(nginx.pids()) / 1024
        nginx.stop()
        self.record("idle-rss", faultline, baseline, "MB", False, lambda f, n, r: f <= 15, "<= 15 MB")

    def tls(self):
        certs = os.path.join(self.work, "certs")
        subprocess.run([self.binary, "certs", "--out", certs], check=True, capture_output=True)
        cert, key = os.path.join(certs, "server.pem"), os.path.join(certs, "server.key")

        def faultline(port, tls_port):
            server = Faultline(self.binary, self.scenarios["static.yaml"], port, ["--cert", cert, "--key", key], tls_port=tls_port)
            server.tls_port = tls_port
            return server

        def nginx(port, tls_port):
            server = Nginx(self.work, port, tls_port=tls_port, cert=cert, key=key)
            server.tls_port = tls_port
            return server

        log("tls-static: keep-alive GET over TLS, 64 connections")
        f, n = self.throughput(lambda port: faultline(port, free_port()), lambda port: nginx(port, free_port()), "/static", scheme="https")
        self.record("tls-static", f, n, "req/s", True, lambda f, n, r: r is not None and r >= 0.6, ">= 0.6x nginx")

        log("tls-handshakes: a new TLS connection for every request")
        f, n = self.throughput(
            lambda port: faultline(port, free_port()),
            lambda port: nginx(port, free_port()),
            "/static",
            scheme="https",
            extra=["-H", "Connection: close"],
            connections=16,
        )
        self.record("tls-handshakes", f, n, "req/s", True, lambda f, n, r: r is not None and r >= 0.7, ">= 0.7x nginx")

    def h2_static(self):
        """h2load against Faultline (`--http2`, prior knowledge) and nginx (`listen ... http2`), alternating: keep-alive,
        64 concurrent streams (4 connections of 16 streams)."""
        if shutil.which("h2load") is None:
            log("h2-static: skipped (h2load is missing; it comes with Debian's nghttp2-client)")
            return
        log("h2-static: HTTP/2 GET of a fixed 200, 4 connections x 16 streams")
        requests = max(20000, 40000 * self.args.seconds)
        rates = {"faultline": [], "nginx": []}
        for _ in range(self.args.runs):
            for kind in ["faultline", "nginx"]:
                port = free_port()
                if kind == "faultline":
                    server, h2_port = Faultline(self.binary, self.scenarios["static.yaml"], port, ["--http2"]), port
                else:
                    h2_port = free_port()
                    server = Nginx(self.work, port, h2_port=h2_port)
                try:
                    wait_for(f"http://127.0.0.1:{port}/static")
                    result = h2load(f"http://127.0.0.1:{h2_port}/static", requests, 4, 16)
                    if result["failed"]:
                        log(f"    {kind}: {result['failed']} failed requests")
                    if result["rate"]:
                        rates[kind].append(result["rate"])
                    log(f"    {kind}: {fmt(result['rate'])} req/s")
                finally:
                    server.stop()
        f, n = median(rates["faultline"]), median(rates["nginx"])
        self.record("h2-static", f, n, "req/s", True, lambda f, n, r: r is not None and r >= 0.5, ">= 0.5x nginx")

    def download(self):
        size = self.args.download_mib * 1024 * 1024
        path = os.path.join(self.work, "big.bin")
        log(f"download-1g: a {self.args.download_mib} MiB bodyFile, whole and as 16 parallel ranges")
        with open(path, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(self.args.download_mib):
                f.write(chunk)
        whole = {"faultline": [], "nginx": []}
        ranges = {"faultline": [], "nginx": []}
        for _ in range(self.args.runs):
            for kind in ["faultline", "nginx"]:
                port = free_port()
                server = (
                    Faultline(self.binary, self.scenarios["files.yaml"], port)
                    if kind == "faultline"
                    else Nginx(self.work, port, root=self.work)
                )
                try:
                    wait_for(f"http://127.0.0.1:{port}/static" if kind == "nginx" else f"http://127.0.0.1:{port}/__faultline/health")
                    url = f"http://127.0.0.1:{port}/files/big.bin"
                    start = time.monotonic()
                    got = subprocess.run(
                        ["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", url], check=True, capture_output=True, text=True
                    ).stdout
                    elapsed = time.monotonic() - start
                    if int(got) != size:
                        raise RuntimeError(f"{kind} sent {got} bytes of {size}")
                    whole[kind].append(size / elapsed / 1e6)
                    part = size // 16
                    start = time.monotonic()
                    procs = [
                        subprocess.Popen(
                            ["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", "-r", f"{i * part}-{(i + 1) * part - 1}", url],
                            stdout=subprocess.PIPE,
                            text=True,
                        )
                        for i in range(16)
                    ]
                    received = sum(int(p.communicate()[0] or 0) for p in procs)
                    elapsed = time.monotonic() - start
                    if received != size:
                        raise RuntimeError(f"{kind} sent {received} bytes of {size} in ranges")
                    ranges[kind].append(size / elapsed / 1e6)
                finally:
                    server.stop()
        at_least = lambda f, n, r: r is not None and r >= 0.7
        self.record("download-1g whole", median(whole["faultline"]), median(whole["nginx"]), "MB/s", True, at_least, ">= 0.7x nginx")
        self.record("download-1g ranges", median(ranges["faultline"]), median(ranges["nginx"]), "MB/s", True, at_least, ">= 0.7x nginx")
        os.remove(path)


def first_200(port, timeout=30):
    deadline = time.monotonic() + timeout
    request = b"GET /static HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.0005)
    raise RuntimeError("no 200 within the timeout")


def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def table(results):
    lines = [
        "| benchmark | Faultline | NIO example | nginx | vs NIO example | vs nginx | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        met = "-" if r["met"] is None else ("yes" if r["met"] else "no")
        unit = " " + r["unit"]
        nio, nio_ratio = r.get("nio"), r.get("nio_ratio")
        ratio = f"{fmt(r['ratio'])}x" if r["ratio"] is not None else "-"
        if r.get("ratio_of"):
            ratio += f" of {r['ratio_of']}"
        lines.append(
            f"| {r['benchmark']} | {fmt(r['faultline'])}{unit} | {fmt(nio)}{unit if nio is not None else ''} "
            f"| {fmt(r['nginx'])}{unit if r['nginx'] is not None else ''} "
            f"| {fmt(nio_ratio)}{'x' if nio_ratio is not None else ''} | {ratio} | {r['target']} | {met} |"
        )
    return "\n".join(lines)


def response_size(port, path):
    """The size of one whole keep-alive response to GET path (head and body) and of its body, off a raw socket."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        while b"\r\n\r\n" not in received:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
        size = int(length.group(1)) if length else 0
        while len(body) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    return len(head) + 4 + size, size


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True, help="the faultline executable (a release build)")
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--nio-binary", help="SwiftNIO's NIOHTTP1Server example (release build), the ceiling row of static")
    parser.add_argument("--runs", type=int, default=3, help="runs of each benchmark (medians are reported)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--delay-connections", type=int, default=10000)
    parser.add_argument("--delay-seconds", type=int, default=6)
    parser.add_argument("--startups", type=int, default=20)
    parser.add_argument("--download-mib", type=int, default=1024)
    parser.add_argument("--sse-streams", type=int, default=10000, help="concurrent streams of sse-10k")
    parser.add_argument("--sse-runs", type=int, default=1, help="runs of sse-10k (each takes about 12 s)")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        help="run only these benchmarks (comma-separated): static, delay-10k, sse-10k, startup, idle-rss, tls, h2-static, download-1g, proxy",
    )
    args = parser.parse_args()
    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.run()
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    machine = f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}"
    print(table(bench.results))
    print(
        "\nvs: Faultline against the other server, 1.0x level and above it better for Faultline (rates: Faultline's over"
        " the other's; times and memory: the other's over Faultline's); `of static`: against Faultline's own static."
    )
    for note in bench.notes:
        print(f"\n{note}")
    print(f"\n{machine}; {time.monotonic() - started:.0f} s; medians of {args.runs} runs (startup: {args.startups})")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"machine": machine, "notes": bench.notes, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": bench.results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
