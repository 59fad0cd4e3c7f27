import CoordinatorStore
import Foundation
import XunxingMarkup

/// The stats exports' content, in the fields BOINC stats sites read: total credit (our charity
/// hours), recent average credit (hours a day, decaying with a one-week half-life, as BOINC's
/// `expavg_credit`), creation time, and for volunteers a cross-project id. JSON, CSV and XML.
/// Hosts carry no name and no account (a host name often names its owner); volunteers no email.
public struct StatsExportFormat {
    public static let files = ["volunteers.json", "volunteers.csv", "volunteers.xml", "hosts.json", "hosts.csv", "hosts.xml"]
    /// Half-life of the recent average, days (BOINC's).
    static let halfLifeDays = 7.0
    /// Days of the ledger read for the recent average (older days weigh under 0.3 %).
    static let averagingWindowDays = 60.0

    let volunteers: [ExportVolunteer]
    let hosts: [ExportHost]
    let daily: [DailyHours]
    let now: Double

    public static func contentType(of file: String) -> String? {
        guard files.contains(file) else { return nil }
        if file.hasSuffix(".csv") { return "text/csv; charset=utf-8" }
        if file.hasSuffix(".xml") { return "application/xml; charset=utf-8" }
        return "application/json"
    }

    /// The cross-project id: the first 32 hex digits of the SHA-256 of the lowercased email, so
    /// that any project using the same rule gives one person the same id (BOINC exports an
    /// email hash for the same purpose). Empty without an email.
    static func crossProjectID(email: String?) -> String {
        guard let email, !email.isEmpty else { return "" }
        return String(Secrets.hash(email.trimmingCharacters(in: .whitespaces).lowercased()).prefix(32))
    }

    /// Recent average hours a day: the ledger's hours, each day's spread evenly over that day
    /// (today's over its part so far), decayed by 2^(-age / half-life) and normalised so that
    /// steady work of h hours a day converges to h. A past day's hours weigh 2^(-age at its end)
    /// - 2^(-age at its start) (ages in half-lives); today's, (1 - 2^(-e)) / e per day elapsed e.
    static func recentAverage(_ days: [(day: String, hours: Double)], now: Double) -> Double {
        let halfLife = halfLifeDays * 86_400
        return days.reduce(0) { total, entry in
            guard let start = UTCDay.start(of: entry.day) else { return total }
            let end = min(start + 86_400, now)
            let weight: Double
            if end > start {
                let elapsed = (end - start) / 86_400  // days the hours are spread over
                weight = (exp2(-(now - end) / halfLife) - exp2(-(now - start) / halfLife)) / elapsed
            } else {
                weight = log(2) / halfLifeDays  // a day not begun here (another clock): as if just earned
            }
            return total + entry.hours * weight
        }
    }

    func files() throws -> [(String, Data)] {
        var byAccount: [String: [(String, Double)]] = [:], byHost: [String: [(String, Double)]] = [:]
        for d in daily {
            byAccount[d.accountId, default: []].append((d.day, d.hours))
            if let host = d.hostId { byHost[host, default: []].append((d.day, d.hours)) }
        }
        let users = volunteers.map { v in
            User(accountId: v.accountId, name: v.name, hoursTotal: v.hoursTotal, totalCredit: v.hoursTotal,
                 expavgCredit: Self.recentAverage(byAccount[v.accountId] ?? [], now: now), expavgTime: now,
                 createTime: v.createdAt, cpid: Self.crossProjectID(email: v.email), workUnits: v.workUnits,
                 datasetsHelped: v.datasetsHelped)
        }
        let machines = hosts.map { h in
            Machine(hostId: h.hostId, cores: h.cores, hoursTotal: h.hoursTotal, totalCredit: h.hoursTotal,
                    expavgCredit: Self.recentAverage(byHost[h.hostId] ?? [], now: now), expavgTime: now,
                    createTime: h.createdAt, workUnits: h.workUnits, lastSeen: h.lastSeen)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var csvUsers = "account_id,name,hours_total,work_units,datasets_helped,expavg_credit,expavg_time,create_time,cpid\n"
        for u in users {
            csvUsers += [u.accountId, u.name, String(u.hoursTotal), String(u.workUnits), String(u.datasetsHelped),
                         String(u.expavgCredit), String(u.expavgTime), String(u.createTime), u.cpid].map(Self.csvField).joined(separator: ",") + "\n"
        }
        var csvHosts = "host_id,cores,hours_total,work_units,last_seen,expavg_credit,expavg_time,create_time\n"
        for m in machines {
            csvHosts += [m.hostId, String(m.cores), String(m.hoursTotal), String(m.workUnits), String(m.lastSeen),
                         String(m.expavgCredit), String(m.expavgTime), String(m.createTime)].map(Self.csvField).joined(separator: ",") + "\n"
        }
        var xmlUsers = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<users>\n"
        for u in users {
            xmlUsers += " <user>\n" + Self.elements([
                ("id", u.accountId), ("name", u.name), ("total_credit", String(u.totalCredit)), ("expavg_credit", String(u.expavgCredit)),
                ("expavg_time", String(u.expavgTime)), ("create_time", String(u.createTime)), ("cpid", u.cpid),
                ("work_units", String(u.workUnits)), ("datasets_helped", String(u.datasetsHelped)),
            ]) + " </user>\n"
        }
        xmlUsers += "</users>\n"
        var xmlHosts = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hosts>\n"
        for m in machines {
            xmlHosts += " <host>\n" + Self.elements([
                ("id", m.hostId), ("total_credit", String(m.totalCredit)), ("expavg_credit", String(m.expavgCredit)),
                ("expavg_time", String(m.expavgTime)), ("create_time", String(m.createTime)), ("p_ncpus", String(m.cores)),
                ("rpc_time", String(m.lastSeen)), ("work_units", String(m.workUnits)),
            ]) + " </host>\n"
        }
        xmlHosts += "</hosts>\n"
        return [
            ("volunteers.json", try encoder.encode(users)), ("volunteers.csv", Data(csvUsers.utf8)), ("volunteers.xml", Data(xmlUsers.utf8)),
            ("hosts.json", try encoder.encode(machines)), ("hosts.csv", Data(csvHosts.utf8)), ("hosts.xml", Data(xmlHosts.utf8)),
        ]
    }

    /// RFC 4180 quoting.
    static func csvField(_ s: String) -> String {
        s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func elements(_ pairs: [(String, String)]) -> String {
        pairs.map { "  <\($0.0)>\(xmlEscaped($0.1))</\($0.0)>\n" }.joined()
    }

    /// Text for XML element content: the pages' escaping (valid XML too), after dropping the
    /// control characters XML 1.0 forbids even escaped.
    static func xmlEscaped(_ s: String) -> String {
        var allowed = String.UnicodeScalarView()
        allowed.append(contentsOf: s.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        return MarkupText.escaped(String(allowed))
    }

    struct User: Encodable {
        var accountId: String, name: String, hoursTotal: Double, totalCredit: Double, expavgCredit: Double
        var expavgTime: Double, createTime: Double, cpid: String, workUnits: Int, datasetsHelped: Int
    }

    struct Machine: Encodable {
        var hostId: String, cores: Int, hoursTotal: Double, totalCredit: Double, expavgCredit: Double
        var expavgTime: Double, createTime: Double, workUnits: Int, lastSeen: Double
    }
}
