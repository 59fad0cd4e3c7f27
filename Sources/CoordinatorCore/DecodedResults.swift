import Foundation
import XunxingProtocol
import XunxingSupport

/// Results already decoded, by replica, so that judging and merging decode each stored result
/// once rather than once per use.
///
/// A result is decoded when it arrives, again for each later report of the same unit (to compare
/// replicas), and again when the dataset's candidates are merged; its toplists make it the largest
/// JSON the coordinator reads, and decoding it was most of the CPU of reporting. An entry is used
/// only for the very text it was decoded from (compared byte for byte), so a result stored by
/// another coordinator, or changed in the database, is decoded afresh, never answered from here.
/// The oldest entries go once the texts held pass `byteLimit`.
final class DecodedResults: Sendable {
    private struct Entry {
        let json: String
        let result: WorkUnitResult
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Replica ids, oldest first kept; each once (an entry leaves only when its turn comes).
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    private let state = Locked(State())
    let byteLimit: Int

    init(byteLimit: Int = 64 << 20) {
        self.byteLimit = byteLimit
    }

    /// The result stored for `replica` as `json`: from memory when that text was decoded before,
    /// else decoded (with the wire's decoder) and kept.
    func result(replica: String, json: String) throws -> WorkUnitResult {
        if let entry = state.with({ $0.entries[replica] }), entry.json == json { return entry.result }
        let result = try WireCoding.decoder().decode(WorkUnitResult.self, from: Data(json.utf8))
        keep(result, replica: replica, json: json)
        return result
    }

    /// Keeps `result`, the decoding of `json`, for `replica`.
    func keep(_ result: WorkUnitResult, replica: String, json: String) {
        let size = json.utf8.count
        guard size <= byteLimit else { return }
        state.with { s in
            if let old = s.entries.updateValue(Entry(json: json, result: result), forKey: replica) {
                s.bytes -= old.json.utf8.count
            } else {
                s.order.append(replica)
            }
            s.bytes += size
            while s.bytes > byteLimit, s.head < s.order.count {
                let oldest = s.order[s.head]
                s.head += 1
                if let gone = s.entries.removeValue(forKey: oldest) { s.bytes -= gone.json.utf8.count }
            }
            if s.head > 1024, s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
    }

    /// Entries held now (for tests and metrics).
    var count: Int { state.with { $0.entries.count } }
}
