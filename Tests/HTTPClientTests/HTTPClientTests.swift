import Foundation
import Hummingbird
import Testing
import XunxingHTTPClient
import XunxingSupport

/// A client that ignores proxy environment variables, so loopback tests behave the same everywhere.
func makeClient(_ adjust: (inout HTTPClientConfiguration) -> Void = { _ in }) -> HTTPClient {
    var configuration = HTTPClientConfiguration()
    configuration.proxy = ""
    // Only a guard against a hung test: a 5 MB upload through a machine loaded by the whole
    // suite has taken over 20 s. Tests of timeouts set their own.
    configuration.timeout = 120
    adjust(&configuration)
    return HTTPClient(configuration: configuration)
}


@Suite("HTTP client over loopback")
struct HTTPClientTests {
    @Test func jsonRoundTripWithHeaders() async throws {
        try await withTestServer { port, _ in
            let client = makeClient()
            let payload = Data(#"{"answer":42}"#.utf8)
            let post = try await client.send(
                "POST", url: "http://127.0.0.1:\(port)/echo",
                headers: ["Content-Type": "application/json", "X-Custom": "hello"], body: payload)
            #expect(post.status == 200)
            #expect(post.header("X-ECHO-METHOD") == "POST")
            #expect(post.header("content-type") == "application/json")
            #expect(post.headers["x-echo-method"] == "POST")
            let reply = try JSONDecoder().decode(EchoReply.self, from: post.body)
            #expect(reply.method == "POST")
            #expect(reply.body == #"{"answer":42}"#)
            let sent = Dictionary(uniqueKeysWithValues: reply.headers.map { ($0.key.lowercased(), $0.value) })
            #expect(sent["x-custom"] == "hello")
            #expect(sent["content-type"] == "application/json")
            #expect(sent["content-length"] == "\(payload.count)")
            #expect(sent["user-agent"] == "xunxing/0.1")
            #expect(sent["expect"] == nil)

            // The blocking variant, from a thread of its own.
            let get = try await onThread { try client.send("GET", url: "http://127.0.0.1:\(port)/echo?x=1") }
            #expect(get.status == 200)
            let getReply = try JSONDecoder().decode(EchoReply.self, from: get.body)
            #expect(getReply.method == "GET")
            #expect(getReply.body.isEmpty)
        }
    }

    @Test func otherMethodsAndRedirects() async throws {
        try await withTestServer { port, _ in
            let client = makeClient()
            let put = try await client.send("PUT", url: "http://127.0.0.1:\(port)/echo", body: Data("abc".utf8))
            #expect(try JSONDecoder().decode(EchoReply.self, from: put.body).method == "PUT")
            #expect(try JSONDecoder().decode(EchoReply.self, from: put.body).body == "abc")
            let delete = try await client.send("DELETE", url: "http://127.0.0.1:\(port)/echo")
            #expect(try JSONDecoder().decode(EchoReply.self, from: delete.body).method == "DELETE")

            // GET follows the redirect; the headers are those of the final response.
            let redirected = try await client.send("GET", url: "http://127.0.0.1:\(port)/redirect")
            #expect(redirected.status == 200)
            #expect(redirected.header("location") == nil)
            #expect(try JSONDecoder().decode(EchoReply.self, from: redirected.body).path == "/echo")
            // Other methods do not follow.
            let posted = try await client.send("POST", url: "http://127.0.0.1:\(port)/redirect")
            #expect(posted.status == 302)
            #expect(posted.header("Location") == "/echo")
        }
    }

    @Test func errorStatusIsReturnedNotThrown() async throws {
        try await withTestServer { port, _ in
            let response = try await makeClient().send("GET", url: "http://127.0.0.1:\(port)/missing")
            #expect(response.status == 404)
            #expect(!response.isSuccess)
            #expect(String(decoding: response.body, as: UTF8.self) == "nothing here")
        }
    }

    @Test func uploadStreamsAFileCompletely() async throws {
        let path = temporaryPath("upload.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let content = Fixture.pattern(count: 20 << 20, seed: 99)
        try content.write(to: URL(fileURLWithPath: path))
        var expected = Fixture.FNV1a()
        content.withUnsafeBytes { expected.add($0) }

        try await withTestServer { port, _ in
            let response = try await makeClient().upload(
                url: "http://127.0.0.1:\(port)/upload", file: path,
                headers: ["Content-Type": "application/octet-stream"])
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self)
                == "\(content.count) \(String(expected.value, radix: 16))")
        }
    }

    @Test func uploadOfMissingFileIsAFileError() async throws {
        let path = temporaryPath("absent.bin")
        await #expect(throws: HTTPClientError.file(path: path, reason: "no such file")) {
            try await makeClient().upload(url: "http://127.0.0.1:1/upload", file: path)
        }
    }

    @Test func downloadResumesAndHandlesCompleteFiles() async throws {
        let path = temporaryPath("big.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withTestServer { port, log in
            let client = makeClient()
            let url = "http://127.0.0.1:\(port)/big"
            // Fresh download.
            let progress = ProgressLog()
            let fresh = try await client.download(url: url, to: path, progress: progress.record)
            #expect(fresh.status == 200)
            #expect(fresh.body.isEmpty)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Fixture.big)
            #expect(progress.last?.0 == Int64(Fixture.bigSize))
            #expect(progress.last?.1 == Int64(Fixture.bigSize))
            #expect(progress.isMonotonic)

            // Resume after the first 1.5 MB.
            try Fixture.big.prefix(1_500_000).write(to: URL(fileURLWithPath: path))
            let resumedProgress = ProgressLog()
            let resumed = try await client.download(url: url, to: path, progress: resumedProgress.record)
            #expect(resumed.status == 206)
            #expect(resumed.header("content-range") == "bytes 1500000-4999999/5000000")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Fixture.big)
            #expect((resumedProgress.first?.0 ?? 0) > 1_500_000)
            #expect(resumedProgress.last?.0 == Int64(Fixture.bigSize))
            #expect(resumedProgress.last?.1 == Int64(Fixture.bigSize))

            // Already complete: the server answers 416 and the file stays as it is.
            let complete = try await onThread { try client.download(url: url, to: path) }
            #expect(complete.status == 416)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Fixture.big)

            // Without resume, a partial file is rewritten from the start.
            try Data(repeating: 0xAB, count: 2_000_000).write(to: URL(fileURLWithPath: path))
            let restarted = try await client.download(url: url, to: path, resume: false)
            #expect(restarted.status == 200)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Fixture.big)

            // A server that ignores Range answers 200: the partial file is rewritten from the start.
            try Data(repeating: 0xCD, count: 1_000_000).write(to: URL(fileURLWithPath: path))
            let ignored = try await client.download(url: "http://127.0.0.1:\(port)/big-norange", to: path)
            #expect(ignored.status == 200)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Fixture.big)

            #expect(log.rangeHeaders == [nil, "bytes=1500000-", "bytes=5000000-", nil])
        }
    }

    @Test func downloadOfErrorStatusWritesNoFile() async throws {
        let path = temporaryPath("missing.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withTestServer { port, _ in
            let response = try await makeClient().download(url: "http://127.0.0.1:\(port)/missing", to: path)
            #expect(response.status == 404)
            #expect(String(decoding: response.body, as: UTF8.self) == "nothing here")
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func bodyLargerThanTheLimitThrows() async throws {
        try await withTestServer { port, _ in
            let url = "http://127.0.0.1:\(port)/big"
            await #expect(throws: HTTPClientError.bodyTooLarge(url: url, limit: 1 << 20)) {
                try await makeClient().send("GET", url: url, maxResponseBytes: 1 << 20)
            }
            let whole = try await makeClient().send("GET", url: url, maxResponseBytes: Fixture.bigSize)
            #expect(whole.body == Fixture.big)
        }
    }

    @Test func refusedConnectionIsATransportError() async throws {
        // Nothing listens on port 1 of the loopback interface.
        let url = "http://127.0.0.1:1/"
        do {
            _ = try await makeClient().send("GET", url: url)
            Issue.record("expected a transport error")
        } catch HTTPClientError.transport(let failedURL, let code, let message) {
            #expect(failedURL == url)
            #expect(code == 7)  // CURLE_COULDNT_CONNECT
            #expect(!message.isEmpty)
        }
    }

    @Test(arguments: ["", "not a url", "ftp://127.0.0.1/file", "http://", "http://127.0.0.1/a b", "file:///etc/hosts"])
    func invalidURLsAreRejected(url: String) async throws {
        await #expect(throws: HTTPClientError.invalidURL(url)) {
            try await makeClient().send("GET", url: url)
        }
        await #expect(throws: HTTPClientError.invalidURL(url)) {
            try await makeClient().download(url: url, to: temporaryPath("never"))
        }
    }

    @Test func slowResponseTimesOut() async throws {
        try await withTestServer { port, _ in
            let client = makeClient { $0.timeout = 0.5 }
            let started = Date()
            do {
                _ = try await client.send("GET", url: "http://127.0.0.1:\(port)/slow?ms=8000")
                Issue.record("expected a timeout")
            } catch HTTPClientError.transport(_, let code, let message) {
                #expect(code == 28)  // CURLE_OPERATION_TIMEDOUT
                #expect(message.lowercased().contains("timed out") || message.lowercased().contains("timeout"))
            }
            // Far sooner than the 8 s answer, with room for a loaded CI machine.
            #expect(Date().timeIntervalSince(started) < 6)
        }
    }
}

/// Progress reports of one download, collected from the transfer thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [(Int64, Int64?)] = []

    /// The progress callback to hand to `download`.
    var record: @Sendable (Int64, Int64?) -> Void {
        { [self] done, total in lock.withLock { calls.append((done, total)) } }
    }

    var first: (Int64, Int64?)? { lock.withLock { calls.first } }
    var last: (Int64, Int64?)? { lock.withLock { calls.last } }
    /// Whether the byte counts never decrease.
    var isMonotonic: Bool { lock.withLock { zip(calls, calls.dropFirst()).allSatisfy { $0.0 <= $1.0 } } }
}
