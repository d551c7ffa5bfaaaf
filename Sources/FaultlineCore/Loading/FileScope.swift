/// Which files a scenario may name (`bodyFile`, certificates), and what relative paths are relative to.
///
/// A scenario read from disk names files next to it; one sent to the control API is held to the folder of the
/// scenario the server was started with, since whoever can reach the API must not read the machine's files through it.
public enum FileScope: Sendable, Equatable {
    /// Paths are relative to this folder. Body files must lie inside it; certificate files may be anywhere (the
    /// scenario's author named them on their own machine).
    case folder(String)
    /// Paths are relative to this folder and every file, certificates included, must lie inside it.
    case confined(to: String)
    /// No file may be named: the server was started without a scenario file, so there is no folder to hold to.
    case none

    /// The folder relative paths start from, if there is one.
    public var directory: String? {
        switch self {
        case .folder(let directory), .confined(let directory): directory
        case .none: nil
        }
    }

    /// The scope of a scenario sent to the control API of a server whose scenario came from `directory` (`nil` when
    /// it came from no file).
    public static func controlAPI(startedFrom directory: String?) -> FileScope {
        directory.map { .confined(to: $0) } ?? .none
    }
}
