import Control
import Foundation
import Logging
import PhasorCore

/// Saves control's state when it changed, at most once per interval, and once more
/// on shutdown. Runs off the decision path: a slow disk never delays a setpoint.
final class StateSaver: Sendable {
    let file: StateFile
    private let clock: any WallClock
    private let logger: Logger
    /// The state last written (or read at start), to skip writing an unchanged one.
    private let lastSaved: Locked<(state: ControlState, house: HouseState?)?>

    init(file: StateFile, clock: any WallClock, logger: Logger, restored: ControlState?, house: HouseState? = nil) {
        self.file = file
        self.clock = clock
        self.logger = logger
        lastSaved = Locked(restored.map { ($0, house) })
    }

    /// Writes `state` unless it is what the file already holds. Returns whether it wrote.
    @discardableResult
    func save(_ state: ControlState, house: HouseState? = nil) -> Bool {
        if lastSaved.withLock({ $0.map { $0.state == state && $0.house == house } ?? false }) { return false }
        do {
            try file.save(StateDocument(format: StateDocument.currentFormat, savedAt: clock.now(), state: state, house: house))
            lastSaved.withLock { $0 = (state, house) }
            return true
        } catch {
            logger.error("cannot save control state", metadata: ["file": "\(file.url.path)", "error": "\(error)"])
            return false
        }
    }

    /// Reads the saved state. A missing file starts fresh; an unreadable one is moved
    /// aside (kept for inspection) so the next save does not overwrite the evidence.
    static func load(file: StateFile, logger: Logger) -> StateDocument? {
        do {
            return try file.load()
        } catch {
            let aside = file.url.path + ".unreadable"
            try? FileManager.default.removeItem(atPath: aside)
            try? FileManager.default.moveItem(atPath: file.url.path, toPath: aside)
            logger.error(
                "control state unreadable; starting fresh",
                metadata: ["file": "\(file.url.path)", "moved_to": "\(aside)", "error": "\(error)"])
            return nil
        }
    }
}
