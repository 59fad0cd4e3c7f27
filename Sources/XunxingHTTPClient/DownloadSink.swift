import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives a download's body: into the target file for 2xx responses (appending after a
/// partial file on 206), into a capped memory buffer for anything else.
final class DownloadSink {
    /// Largest error body kept in memory; the rest is read and dropped.
    static let errorBodyLimit = 1 << 20

    let path: String
    /// Size of the partial file whose remainder was requested with `Range`, 0 when not resuming.
    let resumeOffset: Int64
    let progress: (@Sendable (Int64, Int64?) -> Void)?
    /// Largest file the download may make (nil: no limit); past it the transfer fails.
    let maxBytes: Int64?
    let url: String

    private enum Mode { case undecided, file, memory }
    private var mode = Mode.undecided
    private var fd: Int32 = -1
    private var written: Int64 = 0
    private var total: Int64?
    private(set) var errorBody = Data()

    init(path: String, url: String, resumeOffset: Int64, maxBytes: Int64? = nil, progress: (@Sendable (Int64, Int64?) -> Void)?) {
        self.path = path
        self.url = url
        self.resumeOffset = resumeOffset
        self.maxBytes = maxBytes
        self.progress = progress
    }

    deinit {
        if fd >= 0 { try? FileIO.closeFile(fd, path: path) }
    }

    /// Handles one chunk of the body of the final response.
    func write(_ bytes: UnsafeRawBufferPointer, status: Int, headers: [String: String], contentLength: Int64?) throws {
        if mode == .undecided {
            try begin(status: status, headers: headers, contentLength: contentLength)
        }
        switch mode {
        case .file:
            if let maxBytes, written + Int64(bytes.count) > maxBytes {
                throw HTTPClientError.bodyTooLarge(url: url, limit: Int(clamping: maxBytes))
            }
            if let base = bytes.baseAddress, bytes.count > 0 {
                try FileIO.writeAll(fd, base, bytes.count, path: path)
            }
            written += Int64(bytes.count)
            progress?(written, total)
        case .memory:
            let room = Self.errorBodyLimit - errorBody.count
            if room > 0 { errorBody.append(contentsOf: bytes.prefix(room)) }
        case .undecided:
            break
        }
    }

    /// Completes the download after a successful transfer: a 2xx response without any body
    /// still leaves an (empty) file, except 206, which has nothing to add.
    func finish(status: Int, headers: [String: String]) throws {
        if mode == .undecided, (200..<300).contains(status), status != 206 {
            try begin(status: status, headers: headers, contentLength: 0)
        }
        if fd >= 0 {
            let closing = fd
            fd = -1
            try FileIO.closeFile(closing, path: path)
        }
    }

    private func begin(status: Int, headers: [String: String], contentLength: Int64?) throws {
        guard (200..<300).contains(status) else {
            mode = .memory
            return
        }
        if status == 206, resumeOffset > 0 {
            let range = Self.parseContentRange(headers["content-range"])
            guard let start = range?.start, start == resumeOffset else {
                throw HTTPClientError.file(
                    path: path,
                    reason: "server resumed at \(headers["content-range"] ?? "an unknown offset"), expected byte \(resumeOffset)")
            }
            fd = try FileIO.openFile(path, flags: O_WRONLY | O_CREAT)
            try FileIO.truncate(fd, to: resumeOffset, path: path)
            written = resumeOffset
            total = range?.total ?? contentLength.map { resumeOffset + $0 }
        } else {
            fd = try FileIO.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
            written = 0
            total = contentLength
        }
        mode = .file
        if let maxBytes, let total, total > maxBytes {
            throw HTTPClientError.bodyTooLarge(url: url, limit: Int(clamping: maxBytes))
        }
    }

    /// Parses `bytes START-END/TOTAL` (TOTAL may be `*`).
    static func parseContentRange(_ value: String?) -> (start: Int64, total: Int64?)? {
        guard var text = value?.trimmingSpaces().lowercased(), text.hasPrefix("bytes") else { return nil }
        text.removeFirst(5)
        text = text.trimmingSpaces()
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let span = parts.first, let dash = span.firstIndex(of: "-"),
              let start = Int64(span[..<dash].trimmingCharacters(in: .whitespaces)) else { return nil }
        let total = parts.count > 1 ? Int64(parts[1].trimmingCharacters(in: .whitespaces)) : nil
        return (start, total)
    }
}
