import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Debian's nginx, started by a test as a real upstream (installed by scripts/install-test-tools): static files from
/// `root`, `/slow` (its head after 3 s, with the echo module), `/chunked` (a chunked answer), `/drip` (a body sent in
/// pieces), `/upload/` (PUT stores the body, so an upload can be compared byte for byte) and `/sink` (reads a body
/// and answers 200), on a free loopback port, with its access log telling what it sent.
public final class TestNginx: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`.
    public let url: String
    public let port: Int
    /// Where the static files are (`ROOT/NAME` is served at `/NAME`).
    public let root: String
    /// The access log: `$request $status $bytes_sent $request_length` per line.
    public let accessLog: String
    private let process: Process
    private let folder: String

    /// Whether nginx and its echo module are installed.
    public static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")
            && FileManager.default.fileExists(atPath: Self.echoModule)
    }

    static let echoModule = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

    /// Starts nginx with its files and configuration in `folder` (which must be readable by nginx's workers).
    public init(in folder: String, extraLocations: String = "") throws {
        guard Self.isInstalled else {
            throw ProcessError(
                message: "nginx and libnginx-mod-http-echo are not installed; run scripts/install-test-tools"
            )
        }
        self.folder = folder
        self.root = folder + "/root"
        self.accessLog = folder + "/access.log"
        for directory in [self.root, self.root + "/upload", folder + "/temp"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // The workers run as another user: they read the files and store uploads.
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
        }
        self.port = try LoopbackPort.unused()
        self.url = "http://127.0.0.1:\(self.port)"
        let configuration = """
            load_module \(Self.echoModule);
            worker_processes 1;
            pid \(folder)/nginx.pid;
            error_log \(folder)/error.log error;
            events { worker_connections 1024; }
            http {
                include /etc/nginx/mime.types;
                default_type application/octet-stream;
                log_format sent '$request $status $bytes_sent $request_length';
                access_log \(self.accessLog) sent;
                sendfile on;
                client_max_body_size 4g;
                client_body_temp_path \(folder)/temp/body;
                proxy_temp_path \(folder)/temp/proxy;
                fastcgi_temp_path \(folder)/temp/fastcgi;
                uwsgi_temp_path \(folder)/temp/uwsgi;
                scgi_temp_path \(folder)/temp/scgi;
                server {
                    listen 127.0.0.1:\(self.port);
                    root \(self.root);
                    location = /slow { echo_sleep 3; echo "finally"; }
                    location = /chunked { echo "first part"; echo_flush; echo_sleep 0.2; echo "second part"; }
                    location = /drip { echo_duplicate 64 "0123456789abcdef"; echo_flush; echo_sleep 0.3; echo_duplicate 64 "fedcba9876543210"; }
                    location /upload/ { dav_methods PUT DELETE; create_full_put_path on; dav_access user:rw group:rw all:r; }
                    location = /sink { echo_read_request_body; echo "read $content_length bytes"; }
                    \(extraLocations)
                }
            }
            """
        try configuration.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        self.process.arguments = ["-c", folder + "/nginx.conf", "-p", folder, "-g", "daemon off;"]
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        try self.waitUntilListening()
    }

    deinit {
        self.stop()
    }

    /// Stops nginx (its workers go with it).
    public func stop() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGQUIT)
        let deadline = Date().addingTimeInterval(10)
        while self.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
    }

    /// The access log's lines so far.
    public func loggedRequests() -> [String] {
        ((try? String(contentsOfFile: self.accessLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private func waitUntilListening() throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let client = try? RawHTTPClient(port: self.port, timeout: 1) {
                client.shutdownWrite()
                return
            }
            if !self.process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let log = (try? String(contentsOfFile: self.folder + "/error.log", encoding: .utf8)) ?? ""
        throw ProcessError(message: "nginx did not start: \(log)")
    }
}
