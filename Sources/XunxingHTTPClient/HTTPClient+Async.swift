import Foundation

extension HTTPClient {
    /// Asynchronous version of the blocking `send`: the same transfer runs on
    /// a dedicated thread, so it never occupies the Swift concurrency pool. Cancelling the task
    /// aborts the transfer within about a second and throws `CancellationError`.
    public func send(_ method: String, url: String, headers: [String: String] = [:], body: Data? = nil,
                     maxResponseBytes: Int = 64 << 20) async throws -> HTTPResponse {
        try await offPool { flag in
            try self.performSend(method, url: url, headers: headers, body: body,
                                 maxResponseBytes: maxResponseBytes, cancellation: flag)
        }
    }

    /// Asynchronous ``upload(_:url:file:headers:)``, run on a dedicated thread. Cancelling the task
    /// aborts the transfer and throws `CancellationError`.
    public func upload(_ method: String = "POST", url: String, file path: String,
                       headers: [String: String] = [:]) async throws -> HTTPResponse {
        try await offPool { flag in
            try self.performUpload(method, url: url, file: path, headers: headers, cancellation: flag)
        }
    }

    /// Asynchronous ``download(url:to:headers:resume:progress:)``, run on a dedicated thread (which
    /// is also where `progress` is called). Cancelling the task aborts the transfer, keeps the
    /// partial file for a later resume and throws `CancellationError`.
    public func download(url: String, to path: String, headers: [String: String] = [:], resume: Bool = true,
                         maxBytes: Int64? = nil,
                         progress: (@Sendable (Int64, Int64?) -> Void)? = nil) async throws -> HTTPResponse {
        try await offPool { flag in
            try self.performDownload(url: url, to: path, headers: headers, resume: resume, maxBytes: maxBytes, progress: progress,
                                     cancellation: flag)
        }
    }

    /// Runs a blocking transfer on a new thread and resumes the caller when it ends; task
    /// cancellation is forwarded to the transfer through a flag its callbacks poll.
    private func offPool(
        _ work: @escaping @Sendable (CancellationFlag) throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try work(flag) })
                }
                thread.name = "xunxing-http"
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
    }
}
