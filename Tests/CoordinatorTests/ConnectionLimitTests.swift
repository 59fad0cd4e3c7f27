import CoordinatorCore
import CoordinatorService
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingHTTPClient
#if canImport(Glibc)
import Glibc
import XunxingSupport
#endif

/// Limits that keep a few clients from holding the coordinator: per-address budgets on every
/// route and an idle timeout on connections.
@Suite("Connection limits", .serialized)
struct ConnectionLimitTests {
    @Test("a page flood from one address gets 429 with Retry-After; other addresses and loopback are served")
    func pageFloodPerAddress() async throws {
        try await CoordinatorFixture.with({ $0.trustedProxies = ["127.0.0.1"]; $0.addressRate = 0.1; $0.addressBurst = 20 }) { f in
            func get(_ path: String, from address: String?) async throws -> HTTPResponse {
                try await HTTPClient().send("GET", url: f.baseURL + path, headers: address.map { ["X-Forwarded-For": $0] } ?? [:])
            }
            var statuses: [Int] = []
            var retryAfter: String?
            let started = Date()
            for i in 0..<40 {
                let r = try await get(i % 2 == 0 ? "/leaderboard" : "/api/v1/stats/volunteers.json", from: "203.0.113.9")
                statuses.append(r.status)
                if r.status == 429 { retryAfter = r.header("Retry-After") }
            }
            // The burst, plus what 0.1 per second refilled while the flood ran (a loaded CI machine
            // took 22 s for the 40 requests: at 2 per second that refilled everything).
            let refill = Int((0.1 * Date().timeIntervalSince(started)).rounded(.up))
            let served = statuses.filter { $0 == 200 }.count
            #expect(served >= 20 && served <= 20 + refill && statuses.filter { $0 == 429 }.count == 40 - served, "\(statuses), refill \(refill)")
            #expect(retryAfter != nil)
            #expect(try await get("/leaderboard", from: "198.51.100.3").status == 200)
            #expect(try await get("/leaderboard", from: nil).status == 200, "loopback is exempt")
        }
    }

    /// A TCP socket connected to 127.0.0.1:`port`; the caller closes it.
    static func connectLoopback(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw FixtureError.timeout("connect failed: errno \(error)")
        }
        return fd
    }

    /// Seconds until the server closes a connection that sends nothing (nil: still open after `wait`).
    static func secondsUntilClosed(port: Int, wait: Double) throws -> Double? {
        let fd = try connectLoopback(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(wait), tv_usec: Int((wait - wait.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let start = Date()
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 ? Date().timeIntervalSince(start) : nil
    }

    @Test("a connection that sends nothing is closed after the idle timeout, and stays open without one")
    func idleConnectionsClosed() async throws {
        for idle in [1.0, 0] {
            try await CoordinatorFixture.with({ $0.idleTimeout = idle }) { f in
                let port = Int(f.baseURL.split(separator: ":").last!)!
                let closedAfter = try await onThread { try Self.secondsUntilClosed(port: port, wait: 8) }
                if idle > 0 {
                    #expect(closedAfter.map { $0 > 0.5 && $0 < 6 } == true, "closed after \(String(describing: closedAfter)) s")
                } else {
                    #expect(closedAfter == nil, "closed after \(String(describing: closedAfter)) s with no idle timeout")
                }
            }
        }
    }

    /// Sends a request's head announcing a 200-byte JSON body, then one byte every `interval`
    /// seconds; returns the status line the server answers with and when (nil: none within `wait`).
    static func trickle(port: Int, interval: Double, wait: Double) throws -> (String, Double)? {
        let fd = try connectLoopback(port: port)
        defer { close(fd) }
        let head = "POST /api/v1/volunteers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        _ = head.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 0, tv_usec: Int(interval * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let start = Date()
        var reply = [UInt8](repeating: 0, count: 4096)
        while Date().timeIntervalSince(start) < wait {
            var byte: UInt8 = 0x20
            _ = send(fd, &byte, 1, Int32(MSG_NOSIGNAL))
            let n = recv(fd, &reply, reply.count, 0)
            if n > 0 {
                let text = String(decoding: reply.prefix(n), as: UTF8.self)
                return (String(text.prefix { $0 != "\r" }), Date().timeIntervalSince(start))
            }
            if n == 0 { return ("closed", Date().timeIntervalSince(start)) }
        }
        return nil
    }

    @Test("a body trickled a byte at a time (which the idle timeout never sees) gets 408 after the request timeout, and waits without one")
    func trickledBody() async throws {
        for limit in [2.0, 0] {
            try await CoordinatorFixture.with({ $0.requestTimeout = limit; $0.idleTimeout = 60 }) { f in
                let port = Int(f.baseURL.split(separator: ":").last!)!
                let answer = try await onThread { try Self.trickle(port: port, interval: 0.25, wait: 8) }
                if limit > 0 {
                    #expect(answer.map { $0.0.contains(" 408") && $0.1 > 1.5 && $0.1 < 7 } == true, "\(String(describing: answer))")
                } else {
                    #expect(answer == nil, "answered \(String(describing: answer)) with no request timeout")
                }
            }
        }
    }
}
