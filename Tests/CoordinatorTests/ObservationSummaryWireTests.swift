import Foundation
import PulsarSearch
import Testing
import XunxingProtocol

/// The observation a dataset's status reports and its stored split plan keeps: one flat object,
/// as written before the header facts were held as an ``ObservationInfo``.
@Suite("ObservationSummary on the wire")
struct ObservationSummaryWireTests {
    @Test("flat keys, every one written (unknowns as null); a plan stored in the old layout reads back field by field")
    func flatAndCompatible() throws {
        let summary = ObservationSummary(
            ObservationInfo(format: "psrfits", telescope: nil, source: "J0534+2200", mjd: 60000.25, raDegrees: 83.6332, decDegrees: nil),
            sampleTime: 64e-6, samples: 1 << 20, channels: 512, lowestFrequencyMHz: 1182.5)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any])
        #expect(Set(object.keys) == ["format", "telescope", "source", "mjd", "ra_deg", "dec_deg", "sample_time_s", "samples",
                                     "channels", "lowest_frequency_mhz"])
        #expect(object["telescope"] is NSNull && object["dec_deg"] is NSNull && object["source"] as? String == "J0534+2200")
        #expect(try JSONDecoder().decode(ObservationSummary.self, from: JSONEncoder().encode(summary)) == summary)
        let stored = """
            {"format":"sigproc","telescope":"Parkes","source":"B1937+21","mjd":59000.5,"ra_deg":294.91,"dec_deg":21.58,
             "sample_time_s":0.000064,"samples":4096,"channels":96,"lowest_frequency_mhz":1231.5}
            """
        let old = try JSONDecoder().decode(ObservationSummary.self, from: Data(stored.utf8))
        #expect(old.info == ObservationInfo(format: "sigproc", telescope: "Parkes", source: "B1937+21", mjd: 59000.5, raDegrees: 294.91, decDegrees: 21.58))
        #expect(old.sampleTime == 0.000064 && old.samples == 4096 && old.channels == 96 && old.lowestFrequencyMHz == 1231.5)
    }
}
