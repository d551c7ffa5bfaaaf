import CFaultlineSystem

/// Gives memory back to the system after a large release (a cleared journal, a replaced scenario): the C library keeps
/// freed memory for reuse, so without this the process's resident size would stay at its peak.
enum MemoryRelease {
    /// Returns the allocator's free memory to the system. Costs a few milliseconds on a large heap: call it where the
    /// event loops do not wait (the control API runs on the thread pool).
    static func giveBackFreeMemory() {
        _ = faultline_release_free_memory()
    }
}
