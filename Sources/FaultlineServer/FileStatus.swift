import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `fstat` says of an open file.
enum FileStatus {
    /// The file's modification time in seconds since 1970 (0 when it cannot be read).
    static func modificationTime(of handle: NIOFileHandle) -> Int64 {
        (try? handle.withUnsafeFileDescriptor { descriptor -> Int64 in
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { return 0 }
            #if canImport(Darwin)
            return Int64(status.st_mtimespec.tv_sec)
            #else
            return Int64(status.st_mtim.tv_sec)
            #endif
        }) ?? 0
    }
}
