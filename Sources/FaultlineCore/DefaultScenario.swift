/// The scenario `faultline serve` uses when given no file: httpbin-style endpoints for trying a client at once.
/// It is plain scenario YAML, loaded through the same loader as any file, so it doubles as an example of templates.
public enum DefaultScenario {
    /// The name messages use for the built-in scenario.
    public static let name = "<default>"

    /// The YAML text (`faultline default-scenario` prints it).
    public static let yaml = """
        # Faultline's built-in scenario: httpbin-style endpoints to point a client at without writing a scenario.
        # `faultline default-scenario > my.yaml` copies it as a starting point.
        version: 1
        name: faultline-default
        rules:
          - name: index
            method: [GET, HEAD]
            path: /
            body: |
              Faultline: a mock HTTP server for testing how clients survive bad networks and bad servers.

              Built-in endpoints:
                /status/{code}      answer with that status (100-599) and the headers it needs;
                                    499 closes the connection without a response, as nginx logs it
                /delay/{duration}   answer 200 after a delay: /delay/2 (seconds) or /delay/250ms
                /redirect/{n}       a chain of n 302 redirects ending at /get
                /bytes/{size}       deterministic bytes: /bytes/1024 or /bytes/10MiB
                /range/{size}       the same bytes, for Range requests (206, multipart/byteranges, 416)
                /etag/{tag}         a body with ETag "tag": If-None-Match gives 304, If-Match 412
                /cache              a cacheable body: If-Modified-Since or If-None-Match gives 304
                /basic-auth/{user}/{pass}   200 with those Basic credentials, else 401
                /drop               the connection closes without a response (curl: empty reply)
                /reset              the connection is reset (TCP RST)
                /hang               nothing is ever sent; the client must give up
                /truncate/{n}       a 64 KiB body cut after n bytes (the Content-Length promises more)
                /garbage            random bytes instead of a response
                /drip?duration=2s&numbytes=10&delay=2s&code=200   bytes dripped out over a duration
                /unstable?failure_rate=0.5&seed=   500 at that rate, else 200; the same seed gives the same answer
                /get                a plain 200

              Any other path gets a 404 naming the closest rules and why each missed.

          # Redirects carry a Location, 429 and 503 a Retry-After; Faultline adds WWW-Authenticate to a 401,
          # Proxy-Authenticate to a 407 and Content-Range to a 416 by itself.
          - name: status-redirect
            pathRegex: '^/status/(?<code>30[123578])$'
            status: "{code}"
            location: /get
          - name: status-retry
            pathRegex: '^/status/(?<code>429|503)$'
            status: "{code}"
            retryAfter: 1
          - name: status-method-not-allowed
            path: /status/405
            status: 405
            headers: {Allow: "GET, HEAD"}
          # A 206 carries a body and its Content-Range: the whole body as one range, or the range asked for.
          - name: status-partial
            path: /status/206
            status: 206
            bodySize: 1024
          - name: status
            pathRegex: '^/status/(?<code>[1-5][0-9][0-9])$'
            status: "{code}"

          - name: delay
            path: /delay/{duration}
            delay: "{duration}"
            body: "delayed {duration}\\n"

          - name: redirect-last
            path: /redirect/1
            status: 302
            location: /get
          - name: redirect
            pathRegex: '^/redirect/(?<n>[1-9][0-9]*)$'
            status: 302
            location: "/redirect/{n-1}"
          - name: get
            method: [GET, HEAD]
            path: /get
            body: "ok\\n"

          # Faults: what a client sees when a server or the network misbehaves.
          - name: drop
            path: /drop
            fault: drop
          - name: reset
            path: /reset
            fault: reset
          - name: hang
            path: /hang
            fault: hang
          - name: truncate
            path: /truncate/{n}
            bodySize: 64KiB
            fault: {truncate: "{n}"}
          - name: garbage
            path: /garbage
            fault: garbage
          - name: drip
            path: /drip
            status: "{query.code:200}"
            delay: "{query.delay:2}"
            bodySize: "{query.numbytes:10}"
            throttle: {over: "{query.duration:2}"}
          - name: unstable-failure
            path: /unstable
            probability: "{query.failure_rate:0.5}"
            seed: "{query.seed:}"
            status: 500
          - name: unstable
            path: /unstable
            body: "ok\\n"

          - name: bytes
            path: /bytes/{size}
            bodySize: "{size}"
          - name: range
            method: GET
            path: /range/{size}
            bodySize: "{size}"

          - name: etag
            method: GET
            path: /etag/{tag}
            etag: "{tag}"
            body: "etag {tag}\\n"
          - name: cache
            method: GET
            path: /cache
            headers: {Cache-Control: "public, max-age=60"}
            body: "cacheable\\n"
          - name: basic-auth
            method: GET
            path: /basic-auth/{user}/{pass}
            auth: {basic: "{user}:{pass}"}
            json: {authenticated: true}

        """

    /// Loads the built-in scenario.
    public static func load() throws(ScenarioError) -> Scenario {
        try ScenarioLoader.load(yaml: self.yaml, name: self.name, files: .none)
    }
}
