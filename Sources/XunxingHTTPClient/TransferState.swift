import CCurl
import Foundation

/// Lets an async caller stop a transfer that runs on another thread.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    /// Marks the transfer as cancelled; libcurl notices at its next progress callback.
    func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}

/// Everything libcurl's callbacks need during one transfer. It is handed to them as an
/// unretained opaque pointer and kept alive by the caller until `curl_easy_perform` returns.
final class TransferState {
    /// Where the response body goes.
    enum Sink {
        /// Collected in memory, failing with `bodyTooLarge` past `limit` bytes.
        case memory(limit: Int)
        /// Streamed to a file.
        case download(DownloadSink)
    }

    let easy: CurlEasy
    let sink: Sink
    let source: (any RequestBodySource)?
    let cancellation: CancellationFlag?

    /// Status and headers of the most recent header block.
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    /// In-memory body (for `.memory` sinks).
    private(set) var body = Data()
    /// The first failure raised inside a callback; it explains why libcurl aborted.
    private(set) var failure: (any Error)?

    init(easy: CurlEasy, sink: Sink, source: (any RequestBodySource)?, cancellation: CancellationFlag?) {
        self.easy = easy
        self.sink = sink
        self.source = source
        self.cancellation = cancellation
    }

    /// The pointer handed to libcurl as callback data.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> TransferState {
        Unmanaged<TransferState>.fromOpaque(pointer!).takeUnretainedValue()
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
    }

    // MARK: Callback bodies

    /// One header line (with its CRLF). A status line starts a new block, so after redirects or
    /// `100 Continue` only the last block remains.
    func receiveHeader(_ bytes: UnsafeRawBufferPointer) -> Int {
        let line = String(decoding: bytes, as: UTF8.self).trimmingSpaces()
        if line.hasPrefix("HTTP/") {
            headers = [:]
            let fields = line.split(separator: " ", maxSplits: 2)
            status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { headers[name] = value }
        }
        return bytes.count
    }

    /// One chunk of the response body. Returning less than its size makes libcurl abort.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if cancellation?.isCancelled == true {
            fail(CancellationError())
            return 0
        }
        switch sink {
        case .memory(let limit):
            if body.count + bytes.count > limit {
                fail(HTTPClientError.bodyTooLarge(url: easy.url, limit: limit))
                return 0
            }
            body.append(contentsOf: bytes)
        case .download(let download):
            do {
                let code = easy.responseCode
                try download.write(bytes, status: code != 0 ? code : status, headers: headers,
                                   contentLength: easy.contentLength)
            } catch {
                fail(error)
                return 0
            }
        }
        return bytes.count
    }

    /// Fills libcurl's upload buffer; returns 0 at the end or `CURL_READFUNC_ABORT` on failure.
    func sendBody(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        if cancellation?.isCancelled == true {
            fail(CancellationError())
            return Self.readAbort
        }
        guard let source else { return 0 }
        do {
            return try source.read(into: buffer, maxLength: capacity)
        } catch {
            fail(error)
            return Self.readAbort
        }
    }

    /// Rewinds the upload source when libcurl must send the body again.
    func seekBody(offset: Int64, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, let source, source.rewind(to: offset) else { return Self.seekFail }
        return Self.seekOK
    }

    /// Progress tick (about once a second at least): a non-zero result aborts the transfer.
    func tick() -> Int32 {
        if cancellation?.isCancelled == true {
            fail(CancellationError())
            return 1
        }
        return 0
    }

    static let readAbort = 0x1000_0000  // CURL_READFUNC_ABORT
    static let seekOK: Int32 = 0  // CURL_SEEKFUNC_OK
    static let seekFail: Int32 = 1  // CURL_SEEKFUNC_FAIL

    // MARK: Installation

    /// Points libcurl's callbacks and their data at this state.
    func install() throws {
        let handle = easy.handle
        try easy.set(CURLOPT_HEADERDATA, pointer: opaque)
        try easy.set(CURLOPT_WRITEDATA, pointer: opaque)
        try Self.check(xx_curl_setopt_header_function(handle) { data, size, count, context in
            TransferState.from(context).receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
        }, easy)
        try Self.check(xx_curl_setopt_write_function(handle) { data, size, count, context in
            TransferState.from(context).receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }, easy)
        if source != nil {
            try easy.set(CURLOPT_READDATA, pointer: opaque)
            try easy.set(CURLOPT_SEEKDATA, pointer: opaque)
            try Self.check(xx_curl_setopt_read_function(handle) { data, size, count, context in
                guard let data else { return 0 }
                return TransferState.from(context).sendBody(into: data, capacity: size * count)
            }, easy)
            try Self.check(xx_curl_setopt_seek_function(handle) { context, offset, origin in
                TransferState.from(context).seekBody(offset: Int64(offset), origin: origin)
            }, easy)
        }
        if cancellation != nil {
            try easy.set(CURLOPT_XFERINFODATA, pointer: opaque)
            try Self.check(xx_curl_setopt_xferinfo_function(handle) { context, _, _, _, _ in
                TransferState.from(context).tick()
            }, easy)
            try easy.set(CURLOPT_NOPROGRESS, 0)
        }
    }

    private static func check(_ code: CURLcode, _ easy: CurlEasy) throws {
        guard code == CURLE_OK else {
            throw HTTPClientError.transport(url: easy.url, code: Int(code.rawValue),
                                            message: String(cString: curl_easy_strerror(code)))
        }
    }
}
