import FaultlineCore
import Foundation

extension ServerControl {
    /// The run as a picture: the HTML report (`RunReport`) of the journal so far and the verdict on it, timed from
    /// when the scenario in use was loaded or last reset.
    ///
    /// The engine keeps its load time in whole seconds for `Last-Modified`; the timeline's zero is worked out
    /// precisely from how long ago the engine started counting (`RuleEngine.elapsed`), the same moment its outage
    /// windows count from.
    public func report() -> String {
        let now = Date()
        let engine = self.live.engine
        let elapsed = engine.elapsed()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let journal = self.recorder.journal
        let entries = journal.entries()
        let dropped = journal.droppedCount
        let verdict = ExpectationEvaluator.evaluate(
            engine.scenario.expectations,
            journal: entries,
            droppedEntries: dropped
        )
        return RunReport(
            journal: entries,
            verdict: verdict,
            rules: engine.scenario.rules.map(\.label),
            loadedAt: now.timeIntervalSince1970 - seconds,
            generatedAt: now.timeIntervalSince1970,
            scenarioName: engine.scenario.name,
            droppedEntries: dropped
        ).html()
    }
}
