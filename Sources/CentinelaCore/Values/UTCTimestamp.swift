/// Instants written as RFC 3339 text in UTC with a fixed number of fraction digits,
/// `YYYY-MM-DDTHH:MM:SS.fffZ`: a score's times (milliseconds) and an audit event's (microseconds,
/// as the chain's database function writes them). By hand — no Calendar, no `String(format:)`:
/// they were a tenth of the audit sequencer's CPU when it chained.
public enum UTCTimestamp {
    /// `ticks` units of 10^-`fractionDigits` seconds since 1970-01-01T00:00:00Z (negative before).
    public static func text(ticks: Int64, fractionDigits: Int) -> String {
        var perSecond: Int64 = 1
        for _ in 0..<fractionDigits { perSecond *= 10 }
        let seconds = floorDivide(ticks, perSecond)
        let fraction = ticks - seconds * perSecond
        let days = floorDivide(seconds, 86_400)
        let time = seconds - days * 86_400
        let (year, month, day) = CalendarDate.civil(daysSinceEpoch: days)
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + "T" + padded(time / 3_600, 2) + ":"
            + padded(time % 3_600 / 60, 2) + ":" + padded(time % 60, 2) + "." + padded(fraction, fractionDigits) + "Z"
    }

    /// The quotient rounded towards negative infinity: an instant before 1970 falls in the day
    /// (and second) that holds it.
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
