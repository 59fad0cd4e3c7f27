import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// Collects the text of each `<field>` per `<record>` of a BOINC-style XML export.
final class ExportXMLReader: NSObject, XMLParserDelegate {
    let record: String
    var records: [[String: String]] = []
    private var text = ""
    init(record: String) { self.record = record }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == record { records.append([:]) }
        text = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name != record, !records.isEmpty { records[records.count - 1][name] = text }
    }
}

@Suite("Stats exports")
struct StatsExportTests {
    static func get(_ f: CoordinatorFixture, _ file: String) async throws -> String {
        let answer = try await HTTPClient().send("GET", url: f.baseURL + "/api/v1/stats/" + file)
        #expect(answer.status == 200, "\(file): \(answer.status)")
        return String(decoding: answer.body, as: UTF8.self)
    }

    @Test("BOINC fields: total and recent-average credit (against its definition), creation time, cross-project id; XML beside JSON and CSV; regenerated on demand", arguments: Backend.allCases)
    func exports(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend, { $0.statsExportInterval = 3600 }) { f in
            let anonymous = CoordinatorClient(baseURL: f.baseURL)
            let email = "Ada.Lovelace@Example.org"
            let ada = try await onThread { try anonymous.signup(email: email, name: "Ada <&> \"Countess\"") }
            let volunteer = CoordinatorClient(baseURL: f.baseURL, secret: ada.accountKey)
            let host = try await onThread { try volunteer.registerHost(HostRegistration(name: "analytical-engine", cores: 4, memoryMB: 512, os: "Linux")) }
            let (_, admin) = try await f.coordinator.core.accounts.createAccount(role: .admin, name: "operator")

            // Served once before any credit: the export is cached for the interval.
            let before = try await Self.get(f, "volunteers.json")

            // Unequal hours on days 0 to 40 back (the ledger's own UTC days), one reversal.
            let now = Date().timeIntervalSince1970
            let entries = [0, 1, 3, 8, 15, 40].map { back in (day: UTCDay.of(now - Double(back) * 86_400), hours: Double.random(in: 0.1...5)) }
            try await f.coordinator.store.transaction { tx in
                for (i, entry) in entries.enumerated() {
                    try await tx.appendLedgerEntry(LedgerEntryRecord(
                        id: "e\(i)", accountId: ada.accountID, volunteerSeq: i + 1, hostId: host.hostID, replicaId: nil, workUnitId: nil,
                        datasetId: nil, kind: .credit, reverses: nil, hours: entry.hours, estimatedHours: entry.hours, reportedCpuSeconds: 0,
                        day: entry.day, createdAt: now))
                }
            }
            let total = entries.reduce(0) { $0 + $1.hours }
            #expect(try await Self.get(f, "volunteers.json") == before, "regenerated before its interval")

            // On demand: administrators only.
            let refused = try await HTTPClient().send("POST", url: f.baseURL + "/api/v1/admin/stats/regenerate", headers: ["Authorization": "Bearer \(ada.accountKey)"])
            #expect(refused.status == 403)
            let regenerated = try await HTTPClient().send("POST", url: f.baseURL + "/api/v1/admin/stats/regenerate", headers: ["Authorization": "Bearer \(admin)"])
            #expect(regenerated.status == 204)

            let json = try #require(try JSONSerialization.jsonObject(with: Data(try await Self.get(f, "volunteers.json").utf8)) as? [[String: Any]])
            let mine = try #require(json.first { $0["account_id"] as? String == ada.accountID })
            // Recent average credit, by its definition: each day's hours spread evenly over the
            // day (today's up to the export's time), weighted by ln2/7 x 2^(-age/7 days) and
            // integrated, here numerically over 2,000 steps a day.
            let at = try #require(mine["expavg_time"] as? Double)
            let average = entries.reduce(0.0) { total, entry in
                let start = UTCDay.start(of: entry.day)!, end = min(start + 86_400, at)
                let steps = 2000, width = (end - start) / Double(steps)
                var integral = 0.0
                for i in 0..<steps {
                    let age = (at - (start + (Double(i) + 0.5) * width)) / 86_400
                    integral += log(2) / 7 * pow(2, -age / 7) * width / 86_400
                }
                return total + entry.hours / ((end - start) / 86_400) * integral
            }
            #expect(abs((mine["total_credit"] as? Double ?? -1) - total) < 1e-9)
            #expect(abs((mine["expavg_credit"] as? Double ?? -1) - average) < 1e-6 * max(1, average), "\(mine) vs \(average)")
            let created = try #require(mine["create_time"] as? Double)
            #expect(abs(created - now) < 120)
            let digest = SHA256.hash(data: Data(email.lowercased().utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(mine["cpid"] as? String == String(digest.prefix(32)))
            for file in ["volunteers.json", "volunteers.csv", "volunteers.xml", "hosts.json", "hosts.csv", "hosts.xml"] {
                let text = try await Self.get(f, file)
                #expect(!text.lowercased().contains("ada.lovelace") && !text.contains("analytical-engine"), "\(file) shows an email or a host name")
            }

            // The XML parses, with the same volunteers and the name's markup characters intact.
            let xml = try await Self.get(f, "volunteers.xml")
            let reader = ExportXMLReader(record: "user")
            let parser = XMLParser(data: Data(xml.utf8))
            parser.delegate = reader
            #expect(parser.parse(), "volunteers.xml: \(parser.parserError.map { "\($0)" } ?? "")")
            #expect(reader.records.count == json.count)
            let user = try #require(reader.records.first { $0["id"] == ada.accountID })
            #expect(user["name"] == "Ada <&> \"Countess\"")
            #expect(abs((Double(user["expavg_credit"] ?? "") ?? -1) - average) < 1e-6 * max(1, average))
            let hostsXML = ExportXMLReader(record: "host")
            let hostParser = XMLParser(data: Data(try await Self.get(f, "hosts.xml").utf8))
            hostParser.delegate = hostsXML
            #expect(hostParser.parse())
            let machine = try #require(hostsXML.records.first { $0["id"] == host.hostID })
            #expect(machine["p_ncpus"] == "4" && abs((Double(machine["total_credit"] ?? "") ?? -1) - total) < 1e-9)
            let csv = try await Self.get(f, "volunteers.csv")
            #expect(csv.hasPrefix("account_id,name,hours_total,work_units,datasets_helped,expavg_credit,expavg_time,create_time,cpid\n"))
            #expect(csv.contains("\"Ada <&> \"\"Countess\"\"\""))
        }
    }

    @Test("steady work of h hours a day converges to a recent average of h")
    func steadyState() async throws {
        try await CoordinatorFixture.with({ $0.statsExportInterval = 0 }) { f in
            let ada = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "steady@example.org", name: "Steady") }
            let now = Date().timeIntervalSince1970
            // Today's part so far, days: today has earned 3 x that.
            let elapsed = (now - UTCDay.start(of: UTCDay.of(now))!) / 86_400
            try await f.coordinator.store.transaction { tx in
                for back in 0..<120 {
                    let hours = back == 0 ? 3 * elapsed : 3
                    try await tx.appendLedgerEntry(LedgerEntryRecord(
                        id: "s\(back)", accountId: ada.accountID, volunteerSeq: back + 1, hostId: nil, replicaId: nil, workUnitId: nil,
                        datasetId: nil, kind: .credit, reverses: nil, hours: hours, estimatedHours: hours, reportedCpuSeconds: 0,
                        day: UTCDay.of(now - Double(back) * 86_400), createdAt: now))
                }
            }
            let json = try #require(try JSONSerialization.jsonObject(with: Data(try await Self.get(f, "volunteers.json").utf8)) as? [[String: Any]])
            let average = try #require(json.first { $0["account_id"] as? String == ada.accountID }?["expavg_credit"] as? Double)
            // 3 x (1 - 2^(-(60 + elapsed) / 7)) over the 60 days and today's part read: 2.992.
            #expect(abs(average - 3 * (1 - pow(2, -(60 + elapsed) / 7))) < 1e-3, "\(average)")
        }
    }
}
