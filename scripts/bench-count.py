#!/usr/bin/env python3
"""Faultline's regression guard: instructions and allocations per request, counted by valgrind's callgrind.

Wall-clock throughput on a shared 2-core machine moves by several percent from run to run; an instruction count does
not: callgrind counts the instructions the server executes (every thread), whatever else the machine is doing. The
same run also counts calls to malloc and its siblings (allocations) and to swift_retain / swift_release, from the
call graph callgrind records.

For each benchmark, faultline runs twice under callgrind: once answering WARMUP + N1 requests and once
WARMUP + N2, on one keep-alive connection from a small client in this script, then exits on SIGTERM. Start-up,
warm-up and shutdown are the same in both runs, so

    per request = (total(N2) - total(N1)) / (N2 - N1)

Benchmarks (the same scenarios as scripts/bench.py):
  static            GET /static, a fixed 200 "ok"
  static-1k-rules   the same with 1,000 exact and glob rules before the matching one
  journal-on        static with --journal FILE
  delayed           GET /delayed, the same answer after `delay: 1ms` (the delayed path: the writer's steps and a
                    timer), measured for reading, not guarded
  nio-example       SwiftNIO's NIOHTTP1Server example (--nio-binary), the ceiling: measured for reading, not guarded

The in-memory journal is given --journal-size 100, so that the warm-up already fills it and the counted requests run
in its steady state (each new entry replaces the oldest), as they do under wrk after the first 10,000 requests;
--seed 1 and SWIFT_DETERMINISTIC_HASHING=1 take chance out of the rest.

    bench-count.py --binary FAULTLINE [--check BASELINE | --update BASELINE] [--profile DIR]

--check fails (exit 1) when a guarded figure (instructions, allocations) of any benchmark is more than --tolerance
(10 %) above the baseline file's; --update writes the figures measured now into the baseline file. --profile keeps
the callgrind files of each benchmark in DIR with its profile per request: NAME-inclusive-per-request.txt and
NAME-exclusive-per-request.txt (callgrind_annotate of both runs, subtracted function by function) and
NAME-by-category.txt (the exclusive costs summed by module and by Swift runtime work: retain/release, allocation,
exclusivity checks, metadata, value copies).
"""

import argparse
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# The figures that fail --check when they grow; the others are printed for reading only.
GUARDED = ["instructions", "allocations"]
# Benchmarks measured for reading only: the NIO example is the ceiling, not our code.
NOT_GUARDED = {"nio-example", "delayed"}
ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
COUNTED_CALLS = {"allocations": ALLOCATORS, "frees": {"free"}, "retains": {"swift_retain"}, "releases": {"swift_release"}}


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# MARK: - The client


class Client:
    """One keep-alive HTTP/1.1 connection that sends a GET and reads the whole response before the next."""

    def __init__(self, port, path):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench-count\r\n\r\n".encode()
        self.pending = b""

    def get(self, count):
        for _ in range(count):
            self.socket.sendall(self.request)
            head = self.read_head()
            status = head.split(b"\r\n", 1)[0]
            if not status.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"expected a 200, got {status!r}")
            match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
            if not match:
                raise RuntimeError("a response without Content-Length")
            self.read_exactly(int(match.group(1)))

    def read_head(self):
        while b"\r\n\r\n" not in self.pending:
            self.receive()
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        return head

    def read_exactly(self, size):
        while len(self.pending) < size:
            self.receive()
        self.pending = self.pending[size:]

    def receive(self):
        data = self.socket.recv(65536)
        if not data:
            raise RuntimeError("the server closed the connection")
        self.pending += data

    def close(self):
        self.socket.close()


# MARK: - One run under callgrind


def run_under_callgrind(server, requests, warmup, out_file, timeout):
    """Starts a server under callgrind (server: a function of a port giving its command line and whether it prints
    faultline's readiness line), sends warmup + requests GETs of /static, stops it; returns callgrind's file."""
    port = free_port()
    arguments, prints_readiness, *rest = server(port)
    path = rest[0] if rest else "/static"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", "--dump-instr=no", "--dump-line=no"]
    # Swift seeds its hashing per process; a fixed seed makes dictionaries and sets probe alike in every run.
    environment = dict(os.environ, SWIFT_DETERMINISTIC_HASHING="1")
    process = subprocess.Popen(command + arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    try:
        if prints_readiness:
            wait_for_line(process, b"faultline listening on", timeout)
            client = Client(port, path)
        else:
            client = connect_when_listening(process, port, timeout)
        try:
            client.get(warmup + requests)
        finally:
            client.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=timeout)
        if process.returncode not in (0, -signal.SIGTERM):
            raise RuntimeError(f"the server under valgrind exited {process.returncode}: {stderr.decode(errors='replace')[-2000:]}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return out_file


def connect_when_listening(process, port, timeout):
    """The client's connection, made as soon as the server listens (a refused connection costs the server nothing),
    for a server that prints no readiness line (the NIO example's stdout is buffered in a pipe)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server under valgrind exited {process.returncode} before it listened")
        try:
            return Client(port, "/static")
        except ConnectionRefusedError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen within {timeout} s")


def wait_for_line(process, prefix, timeout):
    deadline = time.monotonic() + timeout
    buffered = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            buffered += chunk
            if prefix in buffered:
                return
        elif process.poll() is not None:
            break
    if process.poll() is not None:
        stderr = process.stderr.read().decode(errors="replace")
        raise RuntimeError(f"faultline under valgrind exited {process.returncode} before it listened: {stderr[-2000:]}")
    raise RuntimeError(f"faultline did not print {prefix!r} within {timeout} s")


# MARK: - Reading callgrind's output


def read_callgrind(path):
    """The total instructions (Ir) and the number of calls to each function of COUNTED_CALLS, from a callgrind file."""
    names = {}
    callee = None
    calls = {key: 0 for key in COUNTED_CALLS}
    total = None
    wanted = {name: key for key, functions in COUNTED_CALLS.items() for name in functions}
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("cfn=") or line.startswith("cfni="):
                callee = function_name(line.split("=", 1)[1].strip(), names)
            elif line.startswith("fn="):
                function_name(line[3:].strip(), names)
            elif line.startswith("calls="):
                count = int(line[6:].split()[0])
                key = wanted.get(callee)
                if key:
                    calls[key] += count
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split(":", 1)[1].split()[0])
    if total is None:
        raise RuntimeError(f"no total in {path}")
    return {"instructions": total, **calls}


def function_name(text, names):
    """Resolves callgrind's name compression: "(12) name" defines id 12, "(12)" refers to it."""
    match = re.match(r"\((\d+)\)\s*(.*)", text)
    if match:
        identifier, name = match.group(1), match.group(2)
        if name:
            names[identifier] = name
        name = names.get(identifier, "")
    else:
        name = text
    # A recursion level ("malloc'2") is the same function.
    return name.split("'", 1)[0]


# MARK: - The benchmarks


def servers(binary, nio_binary, work):
    """Each benchmark as a function of a port giving the server's command line and whether it prints faultline's
    readiness line."""
    static = "version: 1\nrules:\n  - {path: /static, body: ok}\n  - {path: /delay, delay: 1s, body: ok}\n"
    many = ["version: 1", "rules:"]
    for index in range(500):
        many.append(f"  - {{path: /api/v1/resource{index}, body: r{index}}}")
        many.append(f"  - {{path: /api/v2/items{index}/*/detail, body: g{index}}}")
    many.append("  - {path: /static, body: ok}")
    paths = {}
    delayed = "version: 1\nrules:\n  - {path: /delayed, delay: 1ms, body: ok}\n"
    for name, text in [("static.yaml", static), ("many.yaml", "\n".join(many) + "\n"), ("delayed.yaml", delayed)]:
        paths[name] = os.path.join(work, name)
        with open(paths[name], "w") as f:
            f.write(text)
    journal = os.path.join(work, "journal.jsonl")

    def faultline(scenario, extra=(), path="/static"):
        def command(port):
            arguments = [binary, "serve", scenario, "--port", str(port), "--log-level", "error", "--seed", "1"]
            return arguments + ["--journal-size", "100"] + list(extra), True, path

        return command

    table = {
        "static": faultline(paths["static.yaml"]),
        "static-1k-rules": faultline(paths["many.yaml"]),
        "journal-on": faultline(paths["static.yaml"], ["--journal", journal]),
        "delayed": faultline(paths["delayed.yaml"], path="/delayed"),
    }
    if nio_binary:
        table["nio-example"] = lambda port: ([nio_binary, "127.0.0.1", str(port)], False)
    return table


def without_debug_info(binary, work):
    """A copy of the binary without its DWARF (valgrind 3.19 cannot read the DWARF 5 forms Swift 6.3's clang writes
    and gives up); the symbol table stays, so callgrind still names every function."""
    copy = os.path.join(work, os.path.basename(binary))
    subprocess.run(["objcopy", "--strip-debug", binary, copy], check=True)
    return copy


def measure(args, work):
    results = {}
    binary = without_debug_info(args.binary, work)
    nio_binary = without_debug_info(args.nio_binary, work) if args.nio_binary else None
    for name, server in servers(binary, nio_binary, work).items():
        if args.only and name not in args.only:
            continue
        log(f"{name}: {args.warmup} + {args.n1} and {args.warmup} + {args.n2} requests under callgrind")
        first = os.path.join(work, f"callgrind.{name}.n1")
        second = os.path.join(work, f"callgrind.{name}.n2")
        run_under_callgrind(server, args.n1, args.warmup, first, args.timeout)
        run_under_callgrind(server, args.n2, args.warmup, second, args.timeout)
        a, b = read_callgrind(first), read_callgrind(second)
        per_request = {key: round((b[key] - a[key]) / (args.n2 - args.n1), 1) for key in a}
        results[name] = {
            **per_request,
            "raw": {"n1": args.n1, "n2": args.n2, "warmup": args.warmup, "total_n1": a, "total_n2": b},
        }
        log("  " + ", ".join(f"{key} {value:,.1f}" for key, value in per_request.items()) + " per request")
        if args.profile:
            write_profile(args.profile, name, first, second, args.n2 - args.n1)
    return results


def write_profile(directory, name, first, second, requests):
    """callgrind_annotate of both runs, subtracted function by function: the instructions per request of each
    function, inclusive (with what it calls) and exclusive (its own), as percentages of all instructions per request.
    Swift names are demangled with swift-demangle when it is on the PATH."""
    os.makedirs(directory, exist_ok=True)
    shutil.copy(first, os.path.join(directory, f"callgrind.{name}.n1"))
    shutil.copy(second, os.path.join(directory, f"callgrind.{name}.n2"))
    total = (read_callgrind(second)["instructions"] - read_callgrind(first)["instructions"]) / requests

    def costs(path, inclusive):
        out = subprocess.run(
            ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        table = {}
        for line in out.splitlines():
            match = re.match(r"\s*([\d,]+)\s+(?:\([\s\d.%]+\)\s+)?(.+?)\s*$", line)
            if match and ":" in match.group(2) and "PROGRAM TOTALS" not in match.group(2):
                name = match.group(2)
                table[name] = table.get(name, 0) + int(match.group(1).replace(",", ""))
        return table

    for kind, inclusive in [("inclusive", True), ("exclusive", False)]:
        a, b = costs(first, inclusive), costs(second, inclusive)
        rows = sorted((((b.get(k, 0) - a.get(k, 0)) / requests, k) for k in set(a) | set(b)), reverse=True)
        if not inclusive:
            write_categories(directory, name, rows, total)
        lines = [
            f"# {kind} instructions per request of the {name} benchmark: the difference of two callgrind runs over "
            f"{requests} requests; {total:,.0f} instructions per request in all (= 100 %). Recursive NIO pipeline "
            "calls (name'2) count their callees more than once when inclusive.",
        ]
        lines += [f"{cost:12,.0f} {100 * cost / total:6.1f}%  {name}" for cost, name in rows if cost >= 20]
        text = "\n".join(lines) + "\n"
        if shutil.which("swift-demangle"):
            text = subprocess.run(["swift-demangle", "--simplified"], input=text, capture_output=True, text=True).stdout
        with open(os.path.join(directory, f"{name}-{kind}-per-request.txt"), "w") as f:
            f.write(text)
    log(f"  profile written to {directory}")


# Where an exclusive cost goes, tried in order on the demangled name (the first match wins); the rest goes to the
# module that defines the function.
CATEGORIES = [
    (
        "Swift runtime: retain/release",
        r"^(swift_(retain|release|bridgeObjectRetain|bridgeObjectRelease|unknownObjectRetain|unknownObjectRelease"
        r"|retain_n|release_n|tryRetain|isUniquelyReferenced\w*|nonatomic_\w+)|.*swift::RefCounts|.*RefCountBits)",
    ),
    (
        "allocation: malloc/free, swift_allocObject, deallocation",
        r"^(malloc|free|calloc|realloc|cfree|_int_malloc|_int_free|_int_realloc|tcache\w*|malloc_consolidate|unlink_chunk"
        r"|__libc_\w*alloc|swift_allocObject|swift_slowAlloc|swift_deallocObject|swift_deallocClassInstance"
        r"|swift_slowDealloc|_swift_release_dealloc|swift_deallocUninitializedObject|swift_allocBox|swift_deallocBox)\b",
    ),
    ("Swift runtime: exclusivity checks", r"^(swift_beginAccess|swift_endAccess|swift::runtime::AccessSet|swift::runtime::SwiftTLSContext)"),
    (
        "Swift runtime: generic metadata, witness tables, dynamic casts",
        r"(etadata|tryCast|swift_dynamicCast|onformsToProtocol|ConformanceCandidate|getCache|GenericCacheEntry"
        r"|swift_getAssociated|swift_getWitnessTable|ConcurrentReadableHashMap|ConcurrentMap)",
    ),
    ("libc: memcpy/memmove/memset/memcmp", r"^(__mem\w*|mem(cpy|move|set|cmp|chr)|__strlen\w*|strlen|__strchr\w*)"),
    (
        "value witnesses: copying and destroying structs and enums",
        r"^(merged )?(initializeWithCopy|initializeWithTake|assignWithCopy|assignWithTake|destroy|initializeBufferWithCopyOfBuffer"
        r"|outlined (copy|destroy|init with copy|init with take|assign with copy|assign with take|retain|release|consume))"
        r"( value operation| value witness)? (for|of) ",
    ),
]


def category(demangled, location):
    for label, pattern in CATEGORIES:
        if re.search(pattern, demangled):
            return label
    if demangled.startswith("c_nio_llhttp"):
        return "NIOHTTP1 (llhttp, the C parser)"
    if demangled.startswith("c_nio"):
        return "NIO C shims"
    if "libc.so" in location or "ld-linux" in location:
        return "libc: other"
    if demangled.startswith(("swift_", "swift::", "__swift_", "_swift_")) or "(anonymous namespace)" in demangled:
        return "Swift runtime: other"
    # The module of the function itself: drop generic arguments and "specialization ... of", "closure #1 in" and
    # the like, then take the first Module. prefix.
    text = demangled
    while True:
        stripped = re.sub(r"<[^<>]*>", "", text)
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"^.*? specialization\s+(of )?", "", text)
    match = re.search(r"\(extension in ([A-Za-z0-9_]+)\):", text) or re.search(r"\b([A-Z_][A-Za-z0-9_]*)\.", text)
    if not match:
        return "other"
    module = match.group(1)
    return "Swift standard library" if module in ("Swift", "_StringProcessing", "Foundation", "FoundationEssentials") else module


def write_categories(directory, name, rows, total):
    """The exclusive costs per request summed by category and module, as a ranked list with percentages."""
    names = [function for _, function in rows]
    mangled = [re.sub(r"^\S*?:", "", function.rsplit(" [", 1)[0]) for function in names]
    demangled = mangled
    if shutil.which("swift-demangle"):
        out = subprocess.run(["swift-demangle"], input="\n".join(mangled) + "\n", capture_output=True, text=True).stdout
        if len(out.splitlines()) == len(mangled):
            demangled = out.splitlines()
    sums = {}
    for (cost, function), plain in zip(rows, demangled):
        label = category(plain.strip(), function)
        sums[label] = sums.get(label, 0) + cost
    lines = [f"# {name}: exclusive instructions per request by category and module; {total:,.0f} in all (= 100 %)"]
    ranked = sorted(sums.items(), key=lambda item: -item[1])
    lines += [f"{cost:12,.0f} {100 * cost / total:6.1f}%  {label}" for label, cost in ranked if abs(cost) >= 5]
    with open(os.path.join(directory, f"{name}-by-category.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# MARK: - Baseline


def machine():
    valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}, {platform.processor() or platform.machine()}, {valgrind}"


def git(*arguments):
    try:
        return subprocess.run(["git", *arguments], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


def measured_commits():
    """The checkout's commit, and the last commit that changed what the binary is built from (+dirty when the
    sources have uncommitted changes): the benchmark scripts change without changing the figures."""
    sources = git("log", "-1", "--format=%h", "--", "Sources", "Package.swift")
    if git("status", "--porcelain", "--", "Sources", "Package.swift"):
        sources = f"{sources}+dirty"
    return git("rev-parse", "--short", "HEAD"), sources


def check(results, baseline_path, tolerance):
    with open(baseline_path) as f:
        baseline = json.load(f)
    failures = []
    lines = ["| benchmark | figure | baseline | now | change |", "| --- | --- | ---: | ---: | ---: |"]
    for name, figures in results.items():
        base = baseline["results"].get(name)
        if base is None:
            log(f"{name}: not in the baseline; run scripts/bench --update-baseline")
            continue
        for key in GUARDED + [k for k in figures if k not in GUARDED and k != "raw"]:
            old, new = base.get(key), figures.get(key)
            if old is None or new is None:
                continue
            change = (new - old) / old if old else 0.0
            guarded = key in GUARDED and name not in NOT_GUARDED
            over = guarded and new > old * (1 + tolerance)
            lines.append(f"| {name} | {key}{'' if guarded else ' (not guarded)'} | {old:,.1f} | {new:,.1f} | {change:+.1%}{' FAIL' if over else ''} |")
            if over:
                failures.append(f"{name}: {key} per request {new:,.1f} is {change:+.1%} over the baseline's {old:,.1f}")
    print("\n".join(lines))
    print(f"\nbaseline: {baseline_path} (sources of {baseline.get('sources')}, {baseline.get('date')}); now: sources of {measured_commits()[1]}")
    if failures:
        print(f"\nFAILED: more than {tolerance:.0%} over the baseline:\n  " + "\n  ".join(failures))
        print("If the growth is intended, refresh the baseline with scripts/bench --update-baseline and commit it.")
        return 1
    print(f"\nOK: every guarded figure within {tolerance:.0%} of the baseline")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True, help="the faultline executable (the release build scripts/bench makes)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", metavar="BASELINE", help="fail when a guarded figure grows more than --tolerance")
    mode.add_argument("--update", metavar="BASELINE", help="write the figures measured now into this baseline file")
    parser.add_argument("--tolerance", type=float, default=0.10)
    parser.add_argument("--warmup", type=int, default=200, help="requests before the counted ones, in both runs")
    parser.add_argument("--n1", type=int, default=200)
    parser.add_argument("--n2", type=int, default=1200)
    parser.add_argument("--timeout", type=int, default=300, help="seconds for start-up, the requests and shutdown")
    parser.add_argument("--only", action="append", help="only this benchmark (repeatable)")
    parser.add_argument(
        "--nio-binary", help="also count SwiftNIO's NIOHTTP1Server example (nio-example: the ceiling, for reading only)"
    )
    parser.add_argument("--profile", metavar="DIR", help="write each benchmark's profile per request into DIR")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("bench-count: valgrind is not installed (apt-get install valgrind)")
    work = tempfile.mkdtemp(prefix="faultline-count-")
    try:
        results = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.check:
        sys.exit(check(results, args.check, args.tolerance))
    document = {
        "about": "Per-request instructions and allocations of the release faultline under valgrind's callgrind "
        "(scripts/bench-count.py); scripts/bench --check fails when instructions or allocations grow more than 10 % "
        "over these. Refresh with scripts/bench --update-baseline.",
        "commit": measured_commits()[0],
        "sources": measured_commits()[1],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "results": results,
    }
    if args.update and args.only and os.path.exists(args.update):
        # A partial run refreshes only its own benchmarks.
        with open(args.update) as f:
            document["results"] = {**json.load(f)["results"], **results}
    text = json.dumps(document, indent=2) + "\n"
    if args.update:
        with open(args.update, "w") as f:
            f.write(text)
        log(f"baseline written to {args.update}")
    print(text)


if __name__ == "__main__":
    main()
