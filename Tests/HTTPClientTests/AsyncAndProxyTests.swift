import Foundation
import Hummingbird
import Testing
import XunxingHTTPClient

@Suite("HTTP client: concurrency, cancellation and proxies")
struct AsyncAndProxyTests {
    @Test func manyConcurrentRequestsDoNotBlockEachOther() async throws {
        try await withTestServer { port, log in
            let client = makeClient()
            // 20 requests that each take 2 s on the server. The server counts how many it answers
            // at once: one after another (or two at a time, if they held the concurrency pool's
            // threads) it would never see more than two, however fast or loaded the machine.
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await client.send("GET", url: "http://127.0.0.1:\(port)/slow?ms=2000")
                        return (response.status, String(decoding: response.body, as: UTF8.self))
                    }
                }
                var results: [(Int, String)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(statuses.count == 20)
            #expect(statuses.allSatisfy { $0.0 == 200 && $0.1 == "late" })
            // All 20 are sent at once; a loaded machine may start the last ones after the first
            // have been answered, so not all 20 need to overlap, but far more than two must.
            #expect(log.peakInFlight >= 10, "at most \(log.peakInFlight) requests were in flight at once")
        }
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        try await withTestServer { port, _ in
            let client = makeClient()
            let started = Date()
            let task = Task {
                try await client.send("GET", url: "http://127.0.0.1:\(port)/slow?ms=60000")
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // The route answers after 60 s: returning well before shows the transfer was aborted.
            #expect(Date().timeIntervalSince(started) < 20.0)
        }
    }

    @Test func explicitProxyReceivesTheAbsoluteURL() async throws {
        let log = ServerLog()
        let proxy = CallbackResponder<BasicRequestContext> { request, _ in
            let target = request.head.path ?? ""
            log.recordProxied("\(request.head.scheme ?? "-") \(request.head.authority ?? "-") \(target)")
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "via-proxy")))
        }
        try await withServer(proxy) { proxyPort in
            let client = makeClient { $0.proxy = "http://127.0.0.1:\(proxyPort)" }
            let response = try await client.send("GET", url: "http://example.invalid/some/path?q=1")
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "via-proxy")
            #expect(log.proxied.count == 1)
            #expect(log.proxied.first?.contains("example.invalid") == true, "\(log.proxied)")
            #expect(log.proxied.first?.contains("/some/path?q=1") == true, "\(log.proxied)")
        }
    }
}

@Suite("Limits a client that sends a key needs")
struct ClientLimitTests {
    @Test("a download past maxBytes fails with bodyTooLarge and keeps no more than the limit; at the exact size it succeeds")
    func downloadLimit() async throws {
        try await withTestServer { port, _ in
            let path = temporaryPath("limit")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let client = HTTPClient()
            let url = "http://127.0.0.1:\(port)/big"
            do {
                _ = try await client.download(url: url, to: path, resume: false, maxBytes: Int64(Fixture.bigSize - 1))
                Issue.record("a download one byte over its limit succeeded")
            } catch HTTPClientError.bodyTooLarge(_, let limit) {
                #expect(limit == Fixture.bigSize - 1)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size < Fixture.bigSize)
            try? FileManager.default.removeItem(atPath: path)
            let exact = try await client.download(url: url, to: path, resume: false, maxBytes: Int64(Fixture.bigSize))
            #expect(exact.status == 200)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Fixture.big)
        }
    }

    @Test("with followRedirects off a redirect is answered, not followed")
    func noRedirects() async throws {
        try await withTestServer { port, _ in
            var configuration = HTTPClientConfiguration()
            configuration.followRedirects = false
            let answer = try await HTTPClient(configuration: configuration).send("GET", url: "http://127.0.0.1:\(port)/redirect")
            #expect(answer.status == 302)
            let followed = try await HTTPClient().send("GET", url: "http://127.0.0.1:\(port)/redirect")
            #expect(followed.status == 200)
        }
    }
}
