import Foundation

/// Runs blocking work (file reading, dedispersion, folding, libcurl calls, searches) on a thread of
/// its own and resumes the caller with its result: blocking calls never occupy the Swift
/// concurrency pool, whose few threads the coordinator's server and the tests' suites need. The
/// one way async code in this package waits for blocking work.
public func onThread<T: Sendable>(
    name: String = "xunxing-blocking", stackSize: Int = 8 << 20, _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread(name: name, stackSize: stackSize) { continuation.resume(with: Result { try body() }) }
    }
}

/// ``onThread(name:stackSize:_:)`` for work that cannot throw.
public func onThread<T: Sendable>(
    name: String = "xunxing-blocking", stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> T
) async -> T {
    await withCheckedContinuation { continuation in
        startThread(name: name, stackSize: stackSize) { continuation.resume(returning: body()) }
    }
}

/// Starts `body` on a new named thread (the worker's long-lived loops and searches, and the
/// threads behind ``onThread(name:stackSize:_:)``).
@discardableResult
public func startThread(name: String, stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) -> Thread {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = stackSize
    thread.start()
    return thread
}
