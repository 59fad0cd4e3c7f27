import Foundation

/// Makes the writer's commits durable off its thread. The writer commits without waiting for the
/// disk (`synchronous=NORMAL`: in WAL mode a commit then only appends to the log) and goes on to
/// the next batch at once, while this thread fsyncs the write-ahead log and only then lets the
/// callers of every commit made before that fsync began return. A caller is therefore answered
/// only once its changes are on disk, as with `synchronous=FULL`, but the ~2 ms of each fsync no
/// longer stops the writer: the next batch is written while the last one is being synced.
///
/// (Checkpoints still sync the log before copying it into the database and the database after,
/// as SQLite does in WAL mode with `synchronous=NORMAL`.)
final class WALSync: @unchecked Sendable {
    /// The write-ahead log of the database.
    let logPath: String
    private let condition = NSCondition()
    private var waiting: [@Sendable ((any Error)?) -> Void] = []
    private var stopped = false
    private var completed = 0

    init(databasePath: String) {
        logPath = databasePath + "-wal"
        let thread = Thread { self.loop() }
        thread.name = "xunxing-sqlite-sync"
        thread.start()
    }

    /// Calls `done` once everything committed before this call is on disk (nil), or with the
    /// reason it could not be made so.
    func afterSync(_ done: @escaping @Sendable ((any Error)?) -> Void) {
        condition.lock()
        waiting.append(done)
        condition.signal()
        condition.unlock()
    }

    /// Fsyncs completed so far.
    var syncs: Int {
        condition.lock()
        defer { condition.unlock() }
        return completed
    }

    /// Ends the thread once the commits already waiting are synced.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && !stopped { condition.wait() }
            if waiting.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = waiting
            waiting.removeAll(keepingCapacity: true)
            condition.unlock()
            let error = syncLog()
            condition.lock()
            completed += 1
            condition.unlock()
            for done in batch { done(error) }
        }
    }

    private func syncLog() -> (any Error)? {
        let fd = open(logPath, O_RDONLY | O_CLOEXEC)
        // The log is removed only when the last connection closes, after it has been checkpointed
        // into the database file and that file synced: nothing is left to sync.
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else { return SQLiteFailure(code: 10, message: "\(logPath): cannot open to sync: \(String(cString: strerror(errno)))", sql: "") }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            return SQLiteFailure(code: 10, message: "\(logPath): fsync failed: \(String(cString: strerror(errno)))", sql: "")
        }
        return nil
    }
}
