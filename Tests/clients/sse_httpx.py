#!/usr/bin/env python3
"""An EventSource-like client on httpx and httpx-sse, for Faultline's end-to-end tests of streams.

Reads Server-Sent Events from URL (a path alone is taken on $FAULTLINE_URL), printing one JSON line per event as it arrives ({"t": seconds since start,
"event", "id", "data", "retry"}), one per attempt and one per error. When a stream ends early (the connection
closes without the stream's end, is reset, or a read times out) it reconnects as --reconnect says:

  resume     wait the last `retry` the stream sent (else --default-retry), send Last-Event-ID (an EventSource)
  forget     wait the retry, but send no Last-Event-ID (starts over)
  impatient  reconnect at once, with Last-Event-ID
  never      give up

It stops at an event whose data is --until (such as [DONE]) or at a clean end of the stream, and exits 0 then,
1 when it gave up. With --chat it sends a chat completion request (POST, JSON) and prints the assembled answer of
OpenAI-style chunks ({"choices": [{"delta": {"content": ...}}]}) as {"answer": TEXT} at the end.
"""
import argparse
import json
import os
import sys
import time

import httpx
from httpx_sse import connect_sse


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--reconnect", choices=["resume", "forget", "impatient", "never"], default="resume")
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--read-timeout", type=float, default=None, help="seconds; none by default")
    parser.add_argument("--default-retry", type=int, default=3000, help="milliseconds before a retry sets one")
    parser.add_argument("--last-event-id", help="send this Last-Event-ID on the first request")
    parser.add_argument("--until", help="stop at an event with this data")
    parser.add_argument("--chat", action="store_true", help="POST a chat completion request and assemble the answer")
    args = parser.parse_args()
    if args.url.startswith("/"):
        # A path: on the server `faultline run` started (FAULTLINE_URL).
        args.url = os.environ["FAULTLINE_URL"] + args.url

    start = time.monotonic()

    def emit(**fields):
        print(json.dumps({"t": round(time.monotonic() - start, 4), **fields}), flush=True)

    last_id = args.last_event_id or ""
    retry_ms = args.default_retry
    answer = []
    done = False
    with httpx.Client(timeout=httpx.Timeout(10.0, read=args.read_timeout)) as client:
        for attempt in range(1, args.attempts + 1):
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last_id and args.reconnect != "forget":
                headers["Last-Event-ID"] = last_id
            emit(attempt=attempt, lastEventId=headers.get("Last-Event-ID"))
            method, body = ("POST", {"model": "test", "stream": True, "messages": [{"role": "user", "content": "?"}]}) if args.chat else ("GET", None)
            try:
                with connect_sse(client, method, args.url, headers=headers, json=body) as source:
                    emit(status=source.response.status_code, contentType=source.response.headers.get("content-type"))
                    for sse in source.iter_sse():
                        last_id = sse.id
                        if sse.retry is not None:
                            retry_ms = sse.retry
                        emit(event=sse.event, id=sse.id, data=sse.data, retry=sse.retry)
                        if args.chat and sse.data and sse.data != "[DONE]":
                            for choice in json.loads(sse.data).get("choices", []):
                                answer.append(choice.get("delta", {}).get("content", ""))
                        if args.until is not None and sse.data == args.until:
                            done = True
                            break
                    else:
                        done = True
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout) as error:
                emit(error=type(error).__name__)
            if done or args.reconnect == "never":
                break
            if args.reconnect != "impatient":
                time.sleep(retry_ms / 1000)
    if args.chat:
        emit(answer="".join(answer))
    sys.exit(0 if done else 1)


if __name__ == "__main__":
    main()
