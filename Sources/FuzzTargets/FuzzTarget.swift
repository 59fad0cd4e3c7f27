#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parsers that take untrusted bytes, each fuzzed on its own.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A SIGPROC filterbank read with `FilterbankReader`, every spectrum unpacked.
    case filterbank
    /// A PSRFITS search-mode file read through CFITSIO with `PSRFITSReader`, every spectrum decoded.
    case psrfits
    /// A SIGPROC `.tim` time series read with `TimeSeriesFile.read`.
    case tim
    /// A PRESTO `.inf` file and its `.dat`: the input is the `.inf` text, a NUL byte, then the
    /// `.dat` bytes (no NUL: an empty `.dat`).
    case inf
    /// A work-unit payload (`XXWUNIT1`) read whole with `WorkUnitPayload.read`.
    case payload
    /// A JSON request body: the first byte picks the body type (see ``APIBody``), the rest is the
    /// JSON the coordinator would decode and validate.
    case apiBodies = "api-bodies"
}

/// How a parser treated an input that kept its contract.
public enum FuzzOutcome: Equatable, Sendable {
    /// Accepted, with sane output.
    case accepted
    /// Refused with this clear, typed error message.
    case refused(String)
}

/// A broken contract: the parser did something other than accept the input with sane output or
/// refuse it with a clear typed error. The fuzz drivers treat it as a crash.
public struct ContractViolation: Error, CustomStringConvertible, Sendable {
    /// The target whose contract was broken.
    public var target: FuzzTarget
    /// What was wrong.
    public var message: String

    /// Creates a violation.
    public init(target: FuzzTarget, message: String) {
        self.target = target
        self.message = message
    }

    public var description: String { "\(target.rawValue): contract violated: \(message)" }
}

/// Feeds inputs to the real parsers and checks their contract.
///
/// The readers take paths, so each input is written to a scratch file first: in `/dev/shm`
/// (memory) when it exists, else in the temporary directory. One harness per thread; it owns its
/// scratch directory and removes it on ``close()`` or when deallocated.
public final class FuzzHarness {
    /// The scratch directory (unique to this harness).
    public let directory: String
    private var closed = false

    /// Creates a harness with a fresh scratch directory.
    public init() throws(ContractViolation) {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/xunxing-fuzz-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw ContractViolation(target: .filterbank, message: "cannot create a scratch directory in \(base)")
        }
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit { close() }

    /// Removes the scratch directory and its files.
    public func close() {
        guard !closed else { return }
        closed = true
        if let dir = opendir(directory) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name != "." && name != ".." { unlink("\(directory)/\(name)") }
            }
            closedir(dir)
        }
        rmdir(directory)
    }

    /// Runs one input through `target`; returns how it was treated when the contract holds.
    @discardableResult
    public func run(_ target: FuzzTarget, _ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        switch target {
        case .filterbank: return try filterbank(data)
        case .psrfits: return try psrfits(data)
        case .tim: return try tim(data)
        case .inf: return try inf(data)
        case .payload: return try payload(data)
        case .apiBodies: return try apiBodies(data)
        }
    }

    /// The path of scratch file `name`.
    func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// Writes `bytes` to scratch file `name` (created or truncated) and returns its path.
    func write(_ bytes: ArraySlice<UInt8>, to name: String, target: FuzzTarget) throws(ContractViolation) -> String {
        let path = path(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ContractViolation(target: target, message: "cannot write scratch file \(path)") }
        defer { _ = systemClose(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in systemWrite(fd, raw.baseAddress! + done, raw.count - done) }
            guard n > 0 else { throw ContractViolation(target: target, message: "cannot write scratch file \(path)") }
            done += n
        }
        return path
    }
}

// Module-level wrappers so the harness's own `close` does not shadow the C function.
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
