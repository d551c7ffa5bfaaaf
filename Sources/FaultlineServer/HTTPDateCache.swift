import FaultlineCore
import Foundation

/// The `Date` header value, formatted at most once per second per connection.
struct HTTPDateCache {
    private var second: Int64 = -1
    private var value = ""

    /// The IMF-fixdate for now.
    mutating func now() -> String {
        let second = Int64(Date().timeIntervalSince1970)
        if second != self.second {
            self.second = second
            self.value = HTTPDate.format(secondsSince1970: second)
        }
        return self.value
    }
}
