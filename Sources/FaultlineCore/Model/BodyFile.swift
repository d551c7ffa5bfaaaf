/// A body file as a scenario names it: the scenario's folder and the file's path inside it.
///
/// The server opens the file relative to the folder at request time and refuses any path that leaves it then, so a
/// file swapped for a symbolic link after the scenario loaded cannot serve what lies outside.
public struct BodyFile: Sendable, Equatable {
    /// The scenario's folder: absolute, with symbolic links resolved when the scenario loaded.
    public var folder: String
    /// The file's path inside `folder`: relative, without `.` or `..` components.
    public var relativePath: String

    public init(folder: String, relativePath: String) {
        self.folder = folder
        self.relativePath = relativePath
    }

    /// The file's absolute path when the scenario loaded, for messages and media types.
    public var path: String {
        self.folder.hasSuffix("/") ? self.folder + self.relativePath : self.folder + "/" + self.relativePath
    }
}
