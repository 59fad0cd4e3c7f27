@testable import CoordinatorCore
import Foundation
import Testing

@Suite("Ledger days")
struct LedgerDayTests {
    @Test("the UTC day of a credit matches the calendar's, across leap years and centuries")
    func utcDayMatchesCalendar() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        var generator = SystemRandomNumberGenerator()
        var times: [Double] = [0, -1, 86_399.999, 86_400, 951_782_400, 4_107_542_400, 1_798_675_200]  // 1970, 2000-02-29, 2100-03-01, 2026-12-31
        for _ in 0..<2000 { times.append(Double.random(in: -2e9...5e9, using: &generator)) }
        for t in times {
            #expect(UTCDay.of(t) == formatter.string(from: Date(timeIntervalSince1970: t)), "t = \(t)")
            // The day's start is the calendar's midnight: t lies in [start, start + 1 day).
            let day = UTCDay.of(t)
            let start = try? #require(UTCDay.start(of: day))
            #expect(start.map { $0 <= t && t < $0 + 86_400 } == true, "t = \(t), \(day) starts at \(String(describing: start))")
            #expect(start.map { formatter.date(from: day)?.timeIntervalSince1970 == $0 } == true, "\(day)")
        }
        #expect(UTCDay.start(of: "2026-12") == nil && UTCDay.start(of: "yesterday") == nil)
    }
}
