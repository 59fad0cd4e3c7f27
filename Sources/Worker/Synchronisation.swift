import Dispatch
import Foundation
import XunxingSupport

/// A flag threads can wait on: set once (SIGTERM, SIGINT, end of run), never cleared.
public final class StopFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var set = false

    public init() {}

    public var isSet: Bool {
        condition.lock()
        defer { condition.unlock() }
        return set
    }

    public func trigger() {
        condition.lock()
        set = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps up to `seconds`; returns early (true) when the flag is set.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(max(0, seconds))
        condition.lock()
        defer { condition.unlock() }
        while !set {
            if !condition.wait(until: deadline) { break }
        }
        return set
    }
}

/// SIGTERM and SIGINT set a ``StopFlag``; SIGHUP sets `reload` (reread `config.json`). Through
/// dispatch sources, so the handlers run as ordinary code, not in signal context.
public final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    public init(stop: StopFlag, reload: Locked<Bool>? = nil, onSignal: @escaping @Sendable (Int32) -> Void = { _ in }) {
        let queue = DispatchQueue(label: "xunxing-worker.signals")
        var signals = [SIGTERM, SIGINT]
        if reload != nil { signals.append(SIGHUP) }
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                onSignal(number)
                if number == SIGHUP { reload?.with { $0 = true } } else { stop.trigger() }
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
