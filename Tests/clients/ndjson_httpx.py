#!/usr/bin/env python3
"""An NDJSON client on httpx that notices a stream that ends early, for Faultline's end-to-end tests: reads the
lines of URL as they arrive and prints each as {"t", "line"}; when the stream ends without its end (the chunked
body's last chunk never came) or a read takes longer than --read-timeout, it prints {"error": ...} and tries again,
keeping only a complete answer. Prints {"records": N} for the complete answer and exits 0, or 1 after --attempts.
"""
import argparse
import json
import os
import sys
import time

import httpx


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--read-timeout", type=float, default=1.0)
    parser.add_argument("--attempts", type=int, default=3)
    args = parser.parse_args()
    if args.url.startswith("/"):
        # A path: on the server `faultline run` started (FAULTLINE_URL).
        args.url = os.environ["FAULTLINE_URL"] + args.url
    start = time.monotonic()

    def emit(**fields):
        print(json.dumps({"t": round(time.monotonic() - start, 4), **fields}), flush=True)

    with httpx.Client(timeout=httpx.Timeout(10.0, read=args.read_timeout)) as client:
        for attempt in range(1, args.attempts + 1):
            records = []
            try:
                with client.stream("GET", args.url) as response:
                    emit(attempt=attempt, status=response.status_code, contentType=response.headers.get("content-type"))
                    for line in response.iter_lines():
                        if line:
                            records.append(json.loads(line))
                            emit(line=line)
                emit(records=len(records))
                sys.exit(0)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout) as error:
                emit(error=type(error).__name__, kept=len(records))
                time.sleep(0.2)
    sys.exit(1)


if __name__ == "__main__":
    main()
