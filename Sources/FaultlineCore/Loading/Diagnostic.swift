/// One problem found in a scenario, at a place in its file.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// A sentence saying what is wrong and what was expected.
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: SENTENCE`, as compilers print errors and editors read them.
    public var description: String { "\(self.location): error: \(self.message)" }
}

/// Every problem found while loading one or more scenario files. Nothing of a scenario with errors is used.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order.
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One `FILE:LINE:COLUMN: error: SENTENCE` line per problem.
    public var description: String {
        self.diagnostics.map(\.description).joined(separator: "\n")
    }
}
