import Foundation
import Synchronization
import Testing

/// Marks a suite (or test) whose tests run real services, brokers or executables
/// and judge them by the wall clock: at most `EndToEnd.slots` such tests run at once.
///
/// Swift Testing runs every test of every suite in parallel. On a 2-core machine the
/// whole suite then had ~170 tests in flight; a test waiting 10 s for a retained
/// message or an `offline` state timed out because its processes were starved, not
/// because the product was late (one such wait or another failed in most CI runs).
/// Bounding the end-to-end tests keeps their waits meaningful; pure tests still run
/// beside them at full parallelism. `PHASOR_TEST_END_TO_END_SLOTS` overrides the bound.
public struct EndToEnd: SuiteTrait, TestTrait, TestScoping {
    public static let slots: Int = {
        let configured = ProcessInfo.processInfo.environment["PHASOR_TEST_END_TO_END_SLOTS"].flatMap { Int($0) }
        return max(1, configured ?? 6)
    }()

    static let gate = CountingGate(slots)
    @TaskLocal static var holding = false

    public var isRecursive: Bool { true }

    /// Each test case takes a slot of its own; a suite does not (it would hold one
    /// while its tests wait for theirs).
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> EndToEnd? {
        test.isSuite || testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // A test marked twice (on itself and its suite) takes one slot.
        if Self.holding { return try await function() }
        await Self.gate.enter()
        defer { Self.gate.leave() }
        try await Self.$holding.withValue(true) { try await function() }
    }
}

extension Trait where Self == EndToEnd {
    /// Runs real services or executables: at most `EndToEnd.slots` such tests at once.
    public static var endToEnd: EndToEnd { EndToEnd() }
}

/// A counting semaphore for async code, first come first served.
final class CountingGate: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ slots: Int) { state = Mutex(State(free: slots)) }

    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.free > 0 { state.free -= 1; return true }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty { state.free += 1; return nil }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
