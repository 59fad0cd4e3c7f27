import Foundation

/// Candidates as a flat CSV table (RFC 4180: a header row, comma-separated, text quoted when it
/// holds a comma, quote or line break), for spreadsheets and pandas. One row per candidate,
/// strongest first; the folded profile and the curves stay in the JSON.
///
/// Columns: `rank, period_s, frequency_hz, dm, dm_uncertainty, sigma, harmonics, accel_m_s2,
/// snr_folded, reduced_chi2, dm_hits, power, method, duty_cycle, known_pulsar, known_ratio`.
/// Empty cells are values the candidate does not have. Numbers are written with enough digits
/// to read back exactly (`%.17g`).
public enum CandidateCSV {
    public static let columns = [
        "rank", "period_s", "frequency_hz", "dm", "dm_uncertainty", "sigma", "harmonics", "accel_m_s2", "snr_folded",
        "reduced_chi2", "dm_hits", "power", "method", "duty_cycle", "known_pulsar", "known_ratio",
    ]

    /// The table for `candidates`, in their order.
    public static func text(_ candidates: [Candidate]) -> String {
        var out = columns.joined(separator: ",") + "\r\n"
        for (i, c) in candidates.enumerated() {
            let cells: [String] = [
                String(i + 1), number(c.periodS), number(c.frequencyHz), number(c.dm), c.dmUncertainty.map(number) ?? "",
                number(c.sigma), String(c.harmonics), number(c.accelMS2), number(c.snrFolded), number(c.reducedChiSquare),
                String(c.dmHits), number(c.power), c.method?.rawValue ?? "", c.dutyCycle.map(number) ?? "",
                c.knownPulsar?.name ?? "", c.knownPulsar?.ratio ?? "",
            ]
            out += cells.map(quoted).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func number(_ v: Double) -> String { String(format: "%.17g", v) }

    static func quoted(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Reads a table back into rows of named cells; `file` names it in errors.
    public static func rows(_ text: String, file: String) throws -> [[String: String]] {
        let records = try split(text, file: file)
        guard let header = records.first else { throw FormatError.empty(file: file) }
        return try records.dropFirst().enumerated().map { i, cells in
            guard cells.count == header.count else {
                throw FormatError.invalidValue(file: file, field: "row \(i + 2)", value: "\(cells.count) cells", reason: "the header has \(header.count)")
            }
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }

    /// RFC 4180 records of cells.
    static func split(_ text: String, file: String) throws -> [[String]] {
        var records: [[String]] = [], cells: [String] = [], cell = ""
        var quotedCell = false, afterQuote = false
        var chars = Array(text)[...]
        while let ch = chars.popFirst() {
            if quotedCell {
                if ch == "\"" {
                    if chars.first == "\"" { cell.append("\""); chars.removeFirst() } else { quotedCell = false; afterQuote = true }
                } else {
                    cell.append(ch)
                }
                continue
            }
            switch ch {
            case "\"" where cell.isEmpty && !afterQuote: quotedCell = true
            case ",": cells.append(cell); cell = ""; afterQuote = false
            case "\r\n", "\n", "\r":
                cells.append(cell)
                records.append(cells)
                cells = []; cell = ""; afterQuote = false
            default:
                guard !afterQuote else {
                    throw FormatError.invalidValue(file: file, field: "row \(records.count + 1)", value: String(ch), reason: "text after a closing quote")
                }
                cell.append(ch)
            }
        }
        if quotedCell { throw FormatError.invalidValue(file: file, field: "row \(records.count + 1)", value: cell, reason: "a quote is not closed") }
        if !cell.isEmpty || !cells.isEmpty { cells.append(cell); records.append(cells) }
        return records
    }
}
