#!/usr/bin/env python3
"""Reads Server-Sent Events with the sseclient-py package over Python's own http.client, for Faultline's
end-to-end tests: one JSON line per event as it arrives ({"t", "event", "id", "data", "retry"}), then {"end": ...}:
"clean" when the stream ended, or the error that ended it ("timeout" after --read-timeout seconds without a byte).

  sse_sseclient.py URL [--last-event-id ID] [--read-timeout SECONDS]
"""
import argparse
import http.client
import json
import socket
import os
import sys
import time
import urllib.parse

import sseclient


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--last-event-id")
    parser.add_argument("--read-timeout", type=float, default=30)
    args = parser.parse_args()
    if args.url.startswith("/"):
        # A path: on the server `faultline run` started (FAULTLINE_URL).
        args.url = os.environ["FAULTLINE_URL"] + args.url
    start = time.monotonic()

    def emit(**fields):
        print(json.dumps({"t": round(time.monotonic() - start, 4), **fields}), flush=True)

    url = urllib.parse.urlsplit(args.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=args.read_timeout)
    headers = {"Accept": "text/event-stream"}
    if args.last_event_id:
        headers["Last-Event-ID"] = args.last_event_id
    connection.request("GET", url.path or "/", headers=headers)
    response = connection.getresponse()
    emit(status=response.status, contentType=response.getheader("Content-Type"))
    try:
        for event in sseclient.SSEClient(response).events():
            emit(event=event.event, id=event.id, data=event.data, retry=event.retry)
        emit(end="clean")
    except socket.timeout:
        emit(end="timeout")
    except (http.client.IncompleteRead, ConnectionError) as error:
        emit(end=type(error).__name__)
    connection.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
