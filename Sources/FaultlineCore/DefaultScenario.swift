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
                /get                a plain 200

              Any other path gets a 404 naming the closest rules and why each missed.

          # Redirects carry a Location; 429 and 503 a Retry-After; 401, 405, 407 and 416 the header each requires.
          - name: status-redirect
            pathRegex: '^/status/(?<code>30[123578])$'
            status: "{code}"
            location: /get
          - name: status-retry
            pathRegex: '^/status/(?<code>429|503)$'
            status: "{code}"
            retryAfter: 1
          - name: status-unauthorized
            path: /status/401
            status: 401
            headers: {WWW-Authenticate: 'Basic realm="faultline"'}
          - name: status-method-not-allowed
            path: /status/405
            status: 405
            headers: {Allow: "GET, HEAD"}
          - name: status-proxy-unauthorized
            path: /status/407
            status: 407
            headers: {Proxy-Authenticate: 'Basic realm="faultline"'}
          - name: status-range-not-satisfiable
            path: /status/416
            status: 416
            headers: {Content-Range: "bytes */0"}
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

          - name: bytes
            path: /bytes/{size}
            bodySize: "{size}"

        """

    /// Loads the built-in scenario.
    public static func load() throws(ScenarioError) -> Scenario {
        try ScenarioLoader.load(yaml: self.yaml, name: self.name, baseDirectory: "/")
    }
}
