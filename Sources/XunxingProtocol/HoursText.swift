/// Charity hours as people read them: seconds under a minute, minutes under an hour, hours with
/// two decimals above ("42 s", "3.5 min", "1.25 h"), so a volunteer's first minutes of work show
/// as what they are instead of "0.000". One formatter for the pages, `xunxing profile` and the
/// worker's `status`.
public enum HoursText {
    public static func format(_ hours: Double) -> String {
        guard hours.isFinite else { return "\(hours) h" }
        let sign = hours < 0 ? "-" : ""
        let h = abs(hours)
        let seconds = h * 3600
        if seconds == 0 { return "0 h" }
        if seconds < 59.95 { return sign + trimmed(seconds, seconds < 9.995 ? 2 : 1) + " s" }
        if seconds < 3597 { return sign + trimmed(seconds / 60, 1) + " min" }
        return sign + trimmed(h, 2) + " h"
    }

    /// `value` with `digits` decimals, trailing zeros kept (readable columns).
    private static func trimmed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
            if digits == 0 { text = String(text[..<dot]) }
        } else if digits > 0 {
            text += "." + String(repeating: "0", count: digits)
        }
        return text
    }
}
