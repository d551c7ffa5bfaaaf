import CFaultlineSystem
import FaultlineCore
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a rule's body file at request time, safely: relative to its scenario's folder with no path (a symbolic
/// link swapped in after the scenario loaded, say) leading outside it, without blocking on a FIFO, and only when it
/// is a regular file. Blocking (it touches the disk): callers run it on the thread pool.
enum BodyFileOpener {
    /// Why a body file cannot be served.
    struct Failure: Error, CustomStringConvertible {
        /// The file as the scenario named it.
        var file: BodyFile
        /// What went wrong, in words.
        var reason: String

        var description: String { "the body file \(self.file.path) cannot be served: \(self.reason)" }
    }

    /// An open body file and what `fstat` said of it.
    struct Opened {
        var handle: NIOFileHandle
        /// Bytes in the file.
        var length: Int64
        /// Modification time in seconds since 1970.
        var modified: Int64
    }

    /// Opens `file`, or explains why not.
    static func open(_ file: BodyFile) -> Result<Opened, Failure> {
        func failure(_ reason: String) -> Result<Opened, Failure> { .failure(Failure(file: file, reason: reason)) }
        let folder = faultline_open_directory(file.folder)
        guard folder >= 0 else { return failure("its folder cannot be opened (\(Self.describe(errno)))") }
        defer { _ = posixClose(folder) }

        var descriptor = faultline_open_beneath(folder, file.relativePath)
        if descriptor < 0, errno == ENOSYS {
            // No openat2: open it, then check where the descriptor really leads.
            descriptor = openat(folder, file.relativePath, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            if descriptor >= 0, !Self.lies(descriptor, inside: file.folder) {
                _ = posixClose(descriptor)
                return failure("it now leads outside the scenario's folder")
            }
        }
        guard descriptor >= 0 else {
            switch errno {
            case EXDEV, ELOOP: return failure("it now leads outside the scenario's folder")
            default: return failure(Self.describe(errno))
            }
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = Self.describe(errno)
            _ = posixClose(descriptor)
            return failure(reason)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            _ = posixClose(descriptor)
            return failure("it is no longer a regular file")
        }
        // Reads of a regular file never block anyway; clear the flag the open needed for a FIFO's sake.
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
        return .success(
            Opened(
                handle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor),
                length: Int64(status.st_size),
                modified: Int64(Self.modificationSeconds(status))
            )
        )
    }

    /// Whether the open file's real path lies inside `folder` (read from `/proc/self/fd`).
    static func lies(_ descriptor: CInt, inside folder: String) -> Bool {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard count > 0 else { return false }
        let real = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        return real.hasPrefix(prefix)
    }

    static func describe(_ code: CInt) -> String {
        String(cString: strerror(code)).lowercased()
    }
}

extension BodyFileOpener {
    static func modificationSeconds(_ status: stat) -> Int {
        #if canImport(Darwin)
        Int(status.st_mtimespec.tv_sec)
        #else
        Int(status.st_mtim.tv_sec)
        #endif
    }
}

#if canImport(Glibc)
private func posixClose(_ descriptor: CInt) -> CInt { Glibc.close(descriptor) }
#elseif canImport(Darwin)
private func posixClose(_ descriptor: CInt) -> CInt { Darwin.close(descriptor) }
#endif
