import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a request body comes from: libcurl pulls it piece by piece through the read callback.
protocol RequestBodySource: AnyObject {
    /// Total length in bytes, sent as `Content-Length`.
    var length: Int64 { get }
    /// Copies up to `maxLength` bytes into `buffer`; returns 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, maxLength: Int) throws -> Int
    /// Restarts from `offset` (libcurl asks when it must resend); false if impossible.
    func rewind(to offset: Int64) -> Bool
}

/// A request body held in memory.
final class DataBodySource: RequestBodySource {
    private let data: Data
    private var position = 0

    init(_ data: Data) { self.data = data }

    var length: Int64 { Int64(data.count) }

    func read(into buffer: UnsafeMutableRawPointer, maxLength: Int) throws -> Int {
        let count = min(maxLength, data.count - position)
        guard count > 0 else { return 0 }
        let start = data.startIndex + position
        data.copyBytes(to: buffer.assumingMemoryBound(to: UInt8.self), from: start..<(start + count))
        position += count
        return count
    }

    func rewind(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= Int64(data.count) else { return false }
        position = Int(offset)
        return true
    }
}

/// A request body streamed from a file on disk, never held in memory as a whole.
final class FileBodySource: RequestBodySource {
    let path: String
    let length: Int64
    private var fd: Int32

    init(path: String) throws {
        guard let size = try FileIO.regularFileSize(path) else {
            throw HTTPClientError.file(path: path, reason: "no such file")
        }
        self.path = path
        self.length = size
        self.fd = try FileIO.openFile(path, flags: O_RDONLY)
    }

    deinit {
        if fd >= 0 { try? FileIO.closeFile(fd, path: path) }
    }

    func read(into buffer: UnsafeMutableRawPointer, maxLength: Int) throws -> Int {
        try FileIO.readSome(fd, buffer, maxLength, path: path)
    }

    func rewind(to offset: Int64) -> Bool {
        FileIO.seek(fd, to: offset)
    }
}
