/// Formats and parses HTTP dates (RFC 9110 section 5.6.7): IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`
/// when writing, and the two obsolete forms as well when reading.
public enum HTTPDate {
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let longWeekdays = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats seconds since 1970 as an IMF-fixdate.
    public static func format(secondsSince1970 seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = self.civilDate(daysSince1970: days)
        let weekday = self.weekdays[Int(((days % 7) + 7) % 7)]
        let hour = secondOfDay / 3600
        let minute = (secondOfDay % 3600) / 60
        let second = secondOfDay % 60
        return "\(weekday), \(self.twoDigits(day)) \(self.months[Int(month) - 1]) \(year) "
            + "\(self.twoDigits(hour)):\(self.twoDigits(minute)):\(self.twoDigits(second)) GMT"
    }

    /// Parses an HTTP date in any of the three forms RFC 9110 asks a recipient to accept, returning seconds since
    /// 1970, or `nil` when `text` is not a date.
    public static func parse(_ text: String) -> Int64? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if fields.count == 6, self.weekdays.contains(fields[0]), fields[5] == "GMT" {
            return self.seconds(day: fields[1], month: fields[2], year: fields[3], time: fields[4])
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        if fields.count == 4, self.longWeekdays.contains(fields[0]), fields[3] == "GMT" {
            let parts = fields[1].split(separator: "-").map(String.init)
            guard parts.count == 3, parts[2].count == 2, let shortYear = Int(parts[2]) else { return nil }
            // Two-digit years are read as the nearest past century year, as RFC 9110 suggests.
            let year = shortYear >= 70 ? 1900 + shortYear : 2000 + shortYear
            return self.seconds(day: parts[0], month: parts[1], year: String(year), time: fields[2])
        }
        // asctime: Sun Nov  6 08:49:37 1994
        if fields.count == 5, self.weekdays.contains(fields[0]) {
            return self.seconds(day: fields[2], month: fields[1], year: fields[4], time: fields[3])
        }
        return nil
    }

    private static func seconds(day: String, month: String, year: String, time: String) -> Int64? {
        guard let day = Int64(day), (1...31).contains(day),
            let monthIndex = self.months.firstIndex(of: month),
            year.count == 4, let year = Int64(year)
        else { return nil }
        let clock = time.split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = Int64(clock[0]), let minute = Int64(clock[1]), let second = Int64(clock[2]),
            hour < 24, minute < 60, second < 61
        else { return nil }
        let days = self.daysSince1970(year: year, month: Int64(monthIndex) + 1, day: day)
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian calendar).
    static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
