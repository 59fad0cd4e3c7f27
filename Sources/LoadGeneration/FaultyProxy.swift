import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback that forwards to the coordinator and misbehaves on purpose: it cuts
/// connections in the middle of a request or response (a reset, as a failing network or a
/// crashing middlebox does) and stalls forwarding for a while, at random with given rates.
/// Workers pointed at it must lose nothing and count nothing twice.
public final class FaultyProxy: @unchecked Sendable {
    public struct Faults: Sendable {
        /// Chance, per forwarded chunk, that the connection is cut there.
        public var cutRate: Double = 0.02
        /// Chance, per forwarded chunk, of a stall before it is forwarded.
        public var stallRate: Double = 0.02
        public var stallSeconds: Double = 1.5

        public init(cutRate: Double = 0.02, stallRate: Double = 0.02, stallSeconds: Double = 1.5) {
            self.cutRate = cutRate
            self.stallRate = stallRate
            self.stallSeconds = stallSeconds
        }
    }

    /// Counters since the proxy started.
    public struct Counters: Sendable, Codable {
        public var connections = 0
        public var cuts = 0
        public var stalls = 0
    }

    public let targetPort: Int
    public let faults: Faults
    public private(set) var port = 0
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var counters = Counters()
    private var stopped = false

    public init(targetPort: Int, faults: Faults) {
        self.targetPort = targetPort
        self.faults = faults
    }

    public var stats: Counters {
        lock.lock()
        defer { lock.unlock() }
        return counters
    }

    /// Starts listening on 127.0.0.1 (`port` 0 takes a free one) and returns the port.
    @discardableResult
    public func start(port requested: Int = 0) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: requested)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            close(fd)
            throw ProxyError.system("bind/listen on port \(requested)", errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
        return port
    }

    /// Stops accepting; connections already open finish on their own.
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                lock.lock()
                let done = stopped
                lock.unlock()
                if done { return }
                continue
            }
            count { $0.connections += 1 }
            let thread = Thread { [self] in forward(client) }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    /// Shuttles bytes both ways until either side closes, injecting the faults.
    private func forward(_ client: Int32) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: targetPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        defer {
            close(server)
            close(client)
        }
        guard connected == 0 else {
            Self.reset(client)
            return
        }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
        while true {
            guard poll(&fds, 2, 30_000) > 0 else { return }
            for i in 0..<2 where fds[i].revents != 0 {
                let from = fds[i].fd, to = fds[1 - i].fd
                let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                if Double.random(in: 0..<1) < faults.cutRate {
                    count { $0.cuts += 1 }
                    // Forward part of the chunk, then reset both sides.
                    _ = buffer.withUnsafeBytes { write(to, $0.baseAddress, n / 2) }
                    Self.reset(client)
                    Self.reset(server)
                    return
                }
                if Double.random(in: 0..<1) < faults.stallRate {
                    count { $0.stalls += 1 }
                    Thread.sleep(forTimeInterval: faults.stallSeconds)
                }
                var sent = 0
                while sent < n {
                    let w = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, n - sent) }
                    if w <= 0 { return }
                    sent += w
                }
            }
        }
    }

    private func count(_ change: (inout Counters) -> Void) {
        lock.lock()
        change(&counters)
        lock.unlock()
    }

    /// Closes with a TCP reset instead of an orderly FIN.
    private static func reset(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

/// Failures setting up the proxy.
public enum ProxyError: Error, CustomStringConvertible {
    case system(String, Int32)

    public var description: String {
        switch self {
        case .system(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        }
    }
}
