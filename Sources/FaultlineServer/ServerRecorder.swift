public import FaultlineCore

/// Where finished exchanges go: the in-memory journal, the metrics, and the `--journal` and `--access-log` files
/// when asked for.
public final class ServerRecorder: Sendable {
    /// The in-memory journal the control API serves.
    public let journal: Journal
    /// Counts what is recorded.
    public let metrics: ServerMetrics
    private let journalFile: JournalWriter?
    private let accessLog: JournalWriter?

    public init(
        journal: Journal = Journal(),
        journalFile: JournalWriter? = nil,
        accessLog: JournalWriter? = nil,
        metrics: ServerMetrics = ServerMetrics()
    ) {
        self.journal = journal
        self.journalFile = journalFile
        self.accessLog = accessLog
        self.metrics = metrics
    }

    /// Records one finished exchange everywhere it should go; the in-memory journal skips it when it was cleared
    /// after the request arrived (`generation`).
    func record(_ entry: consuming JournalEntry, generation: Int? = nil) {
        self.metrics.record(entry)
        guard self.journalFile != nil || self.accessLog != nil else {
            // Nothing else needs the entry as kept (numbered, its headers cut): it moves into the journal uncopied.
            self.journal.add(entry, generation: generation)
            return
        }
        let kept = self.journal.record(entry, generation: generation)
        self.journalFile?.write(kept)
        self.accessLog?.write(kept)
    }

    /// Writes out what the file writers still hold.
    public func flush() {
        self.journalFile?.flush()
        self.accessLog?.flush()
    }
}
