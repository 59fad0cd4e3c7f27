import CoordinatorCore
import CoordinatorService
import CoordinatorTestSupport
import CoordinatorStore
import Foundation
import PulsarSearch
import Testing
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

@Suite("Coordinator API: credentials, limits, bad input", .serialized)
struct APITests {
    let http = HTTPClient()

    func status(_ method: String, _ url: String, secret: String? = nil, body: String? = nil) async throws -> (Int, String) {
        let http = self.http
        return try await onThread {
            var headers: [String: String] = ["Content-Type": "application/json"]
            if let secret { headers["Authorization"] = "Bearer \(secret)" }
            let r = try http.send(method, url: url, headers: headers, body: body.map { Data($0.utf8) })
            return (r.status, String(decoding: r.body, as: UTF8.self))
        }
    }

    @Test("every endpoint checks credentials and role", arguments: Backend.allCases)
    func credentials(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let api = f.baseURL + "/api/v1"
            let astronomer = try await f.astronomer()
            let host = try await f.host(name: "h")
            #expect(try await status("GET", api + "/datasets").0 == 401)
            #expect(try await status("GET", api + "/datasets", secret: "xxast_not-a-real-token").0 == 401)
            #expect(try await status("POST", api + "/work/request", body: #"{"cores":1,"memory_mb":1,"speed":1,"seconds":1}"#).0 == 401)
            #expect(try await status("POST", api + "/work/request", secret: astronomer.secret, body: #"{"cores":1,"memory_mb":1,"speed":1,"seconds":1}"#).0 == 403)
            #expect(try await status("POST", api + "/datasets", secret: host.client.secret, body: "x").0 == 403)
            #expect(try await status("POST", api + "/hosts", secret: astronomer.secret, body: #"{"name":"x","cores":1,"memory_mb":1,"os":"x"}"#).0 == 403)
            #expect(try await status("POST", api + "/replicas/x/ack").0 == 401)
            #expect(try await status("GET", api + "/workunits/x/payload").0 == 401)
            #expect(try await status("POST", api + "/replicas/x/result").0 == 401)

            // One astronomer cannot see another's dataset.
            let path = try f.simulatedObservation()
            let dataset = try await f.submitAndSplit(path, astronomer: astronomer)
            let other = try await f.astronomer()
            #expect(try await status("GET", api + "/datasets/\(dataset.id)", secret: other.secret).0 == 404)
            #expect(try await status("GET", api + "/datasets/\(dataset.id)/candidates", secret: other.secret).0 == 404)
            #expect(try await status("GET", api + "/datasets/\(dataset.id)", secret: astronomer.secret).0 == 200)
        }
    }

    @Test("a host cannot acknowledge, fetch or report another host's replica")
    func anotherHostsUnit() async throws {
        try await CoordinatorFixture.with { f in
            let astronomer = try await f.astronomer()
            _ = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let a = try await f.host(name: "a")
            let b = try await f.host(name: "b")
            let work = try await onThread { try a.client.requestWork(WorkRequest(cores: 1, memoryMB: 512, speed: 1, seconds: 0.001)) }
            let assignment = try #require(work.assignments.first)
            let api = f.baseURL + "/api/v1"
            #expect(try await status("POST", api + "/replicas/\(assignment.replicaID)/ack", secret: b.client.secret).0 == 403)
            #expect(try await status("GET", f.baseURL + assignment.payloadURL, secret: b.client.secret).0 == 403)
            let result = WorkUnitResult(workUnitID: assignment.workUnitID, candidates: [], cpuSeconds: 1, elapsedSeconds: 1, seriesSearched: 1, software: "x")
            let body = String(decoding: try WireCoding.encoder().encode(result), as: UTF8.self)
            #expect(try await status("POST", api + "/replicas/\(assignment.replicaID)/result", secret: b.client.secret, body: body).0 == 403)
            // Its own host may, and a byte range of the payload comes back as 206.
            #expect(try await status("POST", api + "/replicas/\(assignment.replicaID)/ack", secret: a.client.secret).0 == 204)
            let http = self.http
            let ranged = try await onThread {
                try http.send("GET", url: f.baseURL + assignment.payloadURL, headers: ["Authorization": "Bearer \(a.client.secret!)", "Range": "bytes=10-"])
            }
            #expect(ranged.status == 206)
            #expect(ranged.header("content-range") == "bytes 10-\(assignment.payloadSize - 1)/\(assignment.payloadSize)")
            #expect(Int64(ranged.body.count) == assignment.payloadSize - 10)
        }
    }

    @Test("uploads over the limit are refused and leave nothing behind")
    func uploadLimit() async throws {
        try await CoordinatorFixture.with({ $0.maxUploadBytes = 100_000 }) { f in
            let astronomer = try await f.astronomer()
            let file = CoordinatorFixture.dataPath("tutorial.fil")
            let error = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try astronomer.submit(file: file, name: "big", preset: nil, dmMax: nil, accelMax: nil, sha256: nil) }
            }
            #expect(error?.status == 413)
            // The same file chunked, with no Content-Length to refuse it by: counted as it streams.
            let code = try await Subprocess.output("/usr/bin/curl", [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(astronomer.secret!)",
                "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/octet-stream",
                "--data-binary", "@" + file, f.baseURL + "/api/v1/datasets?name=chunked",
            ]).stdout
            #expect(code == "413", "a chunked upload over the limit answered \(code)")
            #expect(try await onThread { try astronomer.datasets() }.isEmpty)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.coordinator.configuration.uploadsDirectory)
            #expect(leftovers.isEmpty)
        }
    }

    @Test("malformed JSON, bad headers and wrong checksums are refused with a reason")
    func badInput() async throws {
        try await CoordinatorFixture.with { f in
            let api = f.baseURL + "/api/v1"
            let (code, body) = try await status("POST", api + "/volunteers", body: #"{"email": 5, "name": "x"}"#)
            #expect(code == 400)
            #expect(body.contains("email"))
            let (code2, body2) = try await status("POST", api + "/volunteers", body: "{not json")
            #expect(code2 == 400)
            #expect(body2.contains("malformed JSON"))
            let host = try await f.host(name: "h")
            #expect(try await status("POST", api + "/work/request", secret: host.client.secret, body: #"{"cores": 1}"#).0 == 400)

            // A filterbank whose header says nbits 3 is refused, naming the field and value.
            let astronomer = try await f.astronomer()
            var header = FilterbankHeader(fch1: 1500, foff: -1, nchans: 8, nbits: 8, tsamp: 1e-3)
            header.sourceName = "x"
            var bytes = SigprocHeader.encode(header)
            let key = Array("nbits".utf8)
            let at = (0..<(bytes.count - key.count)).first { Array(bytes[$0..<($0 + key.count)]) == key }!
            bytes[at + key.count] = 3
            let bad = f.directory.appendingPathComponent("bad.fil").path
            try Data(bytes + [UInt8](repeating: 1, count: 800)).write(to: URL(fileURLWithPath: bad))
            let error = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try astronomer.submit(file: bad, name: "bad", preset: nil, dmMax: nil, accelMax: nil, sha256: nil) }
            }
            #expect(error?.status == 400)
            #expect("\(error!)".contains("nbits") && "\(error!)".contains("3"))

            let good = try f.simulatedObservation()
            let mismatch = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try astronomer.submit(file: good, name: "x", preset: nil, dmMax: nil, accelMax: nil, sha256: String(repeating: "0", count: 64)) }
            }
            #expect(mismatch?.status == 400)
            #expect("\(mismatch!)".contains("checksum"))
            let unknownPreset = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try astronomer.submit(file: good, name: "x", preset: "nope", dmMax: nil, accelMax: nil, sha256: nil) }
            }
            #expect("\(unknownPreset!)".contains("nope"))
        }
    }
}
