//! Calendar arithmetic for the `W YYYY/MM/DD HH:MM:SS` (UTC) times of `dhcpd.leases`.
//!
//! Days are counted in the proleptic Gregorian calendar from 1970-01-01, using eras of
//! 400 years (146,097 days), each of which repeats the same pattern of leap years.

use charrua_server::leases::Time;

const DAY: u64 = 86_400;
const DAYS_PER_ERA: i64 = 146_097;

/// A UTC calendar time, as written in a lease file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    /// Day of the week, 0 for Sunday.
    pub(crate) weekday: u64,
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    pub(crate) hour: u64,
    pub(crate) minute: u64,
    pub(crate) second: u64,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` (1–12) of `year`.
pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date; the month is 1–12 and the day is valid for it.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count years from March, so that the leap day is the last day of a year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - 719_468
}

/// The calendar date of a day counted from 1970-01-01: (year, month 1–12, day 1–31).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(DAYS_PER_ERA);
    let day_of_era = z.rem_euclid(DAYS_PER_ERA);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The UTC calendar time of `t`, or `None` past the years `i64` day counts reach.
pub(crate) fn civil(t: Time) -> Option<Civil> {
    let days = i64::try_from(t / DAY).ok()?;
    let (year, month, day) = civil_from_days(days);
    let second_of_day = t % DAY;
    Some(Civil {
        // 1970-01-01 was a Thursday.
        weekday: (t / DAY + 4) % 7,
        year,
        month,
        day,
        hour: second_of_day / 3600,
        minute: second_of_day / 60 % 60,
        second: second_of_day % 60,
    })
}

/// Seconds since the epoch of a validated UTC date and time, or `None` before 1970.
pub(crate) fn from_civil(c: &Civil) -> Option<Time> {
    let days = u64::try_from(days_from_civil(c.year, c.month, c.day)).ok()?;
    days.checked_mul(DAY)?
        .checked_add(c.hour * 3600 + c.minute * 60 + c.second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_epoch_and_a_leap_day() {
        let epoch = civil(0).unwrap();
        assert_eq!(
            (epoch.weekday, epoch.year, epoch.month, epoch.day),
            (4, 1970, 1, 1)
        );
        // 2024-02-29 12:34:56 UTC, a Thursday.
        let t = 1_709_210_096;
        let c = civil(t).unwrap();
        assert_eq!((c.weekday, c.year, c.month, c.day), (4, 2024, 2, 29));
        assert_eq!((c.hour, c.minute, c.second), (12, 34, 56));
        assert_eq!(from_civil(&c), Some(t));
    }

    #[test]
    fn round_trips_every_day_for_a_thousand_years() {
        for days in 0..366 * 1000 {
            let t = days * DAY + 3723;
            assert_eq!(from_civil(&civil(t).unwrap()), Some(t));
        }
    }

    #[test]
    fn refuses_dates_before_1970() {
        let c = Civil {
            weekday: 3,
            year: 1969,
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 59,
        };
        assert_eq!(from_civil(&c), None);
    }
}
