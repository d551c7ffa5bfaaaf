import FaultlineTesting
import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The README's URLSession example, run as written (XCTest, as many URLSession users test).
final class URLSessionExampleTests: XCTestCase {
    func testDownloadsTheWholeFile() async throws {
        try await withFaultline(scenario: .yaml("version: 1\nrules:\n  - {path: /archive.bin, bodySize: 1MiB}\n")) {
            server in
            let url = try XCTUnwrap(URL(string: "\(server.url)/archive.bin"))
            let (data, response) = try await URLSession.shared.data(from: url)
            XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
            XCTAssertEqual(data.count, 1 << 20)
            XCTAssertEqual(server.journal().map(\.outcome), [.completed])
        }
    }
}
