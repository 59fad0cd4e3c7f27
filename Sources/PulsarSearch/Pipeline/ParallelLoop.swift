import Foundation

/// Runs `body(index, worker)` for every index in `0..<count` on up to `threads` threads. Each thread
/// is a `worker` number in `0..<threads`, so callers can keep per-thread scratch state. Indices are
/// handed out one at a time, so uneven work balances itself.
func parallelFor(count: Int, threads: Int, _ body: (Int, Int) -> Void) {
    let workers = max(1, min(threads, count))
    if workers == 1 {
        for i in 0..<count { body(i, 0) }
        return
    }
    let lock = NSLock()
    nonisolated(unsafe) var next = 0
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                lock.lock()
                let i = next
                next += 1
                lock.unlock()
                if i >= count { break }
                body(i, worker)
            }
        }
    }
}

/// `(0..<count).map(body)` computed on up to `threads` threads, in index order.
func parallelMap<T>(count: Int, threads: Int, _ body: (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { out in
        nonisolated(unsafe) let out = out
        parallelFor(count: count, threads: threads) { i, _ in out[i] = body(i) }
    }
    return results.map { $0! }
}
