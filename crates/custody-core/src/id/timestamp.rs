//! Points in time, always UTC, always RFC 3339 on the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{OffsetDateTime, UtcOffset};

use super::IdError;

/// The earliest instant RFC 3339 can write (year 0000).
const MIN: OffsetDateTime = datetime!(0000-01-01 00:00:00 UTC);
/// The latest instant RFC 3339 can write (year 9999).
const MAX: OffsetDateTime = datetime!(9999-12-31 23:59:59.999_999_999 UTC);

/// An instant, held in UTC.
///
/// The case record, the timeline and evidence metadata are read by people and by other tools,
/// so every time is written the same way: RFC 3339 in UTC (`2026-11-23T08:55:26.123Z`). Values
/// are confined to years 0000–9999, the range RFC 3339 can express, so formatting never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// What this value is called in error messages.
    pub const KIND: &'static str = "timestamp";

    /// Parses an RFC 3339 date-time (any offset) and converts it to UTC.
    ///
    /// # Errors
    /// [`IdError`] if `s` is not RFC 3339 or lies outside years 0000–9999 once in UTC.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        // RFC 3339 tolerates a space or lowercase `t`/`z`; custody writes and accepts one
        // spelling so that equal instants are equal text.
        if s.as_bytes().get(10) != Some(&b'T') || s.contains(['t', 'z']) {
            return Err(IdError::new(
                Self::KIND,
                s,
                "must be RFC 3339 with an uppercase 'T' separator, e.g. 2026-11-23T08:55:26Z",
            ));
        }
        let parsed = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            IdError::new(Self::KIND, s, format!("is not an RFC 3339 date-time ({e})"))
        })?;
        Self::from_offset(parsed)
            .ok_or_else(|| IdError::new(Self::KIND, s, "is outside years 0000-9999 in UTC"))
    }

    /// Converts to UTC, `None` outside the representable range.
    fn from_offset(t: OffsetDateTime) -> Option<Self> {
        let utc = t.checked_to_offset(UtcOffset::UTC)?;
        (MIN..=MAX).contains(&utc).then_some(Self(utc))
    }

    /// The instant `millis` milliseconds after the Unix epoch (what Step Functions and
    /// DynamoDB TTLs count in).
    ///
    /// # Errors
    /// [`IdError`] if the instant lies outside years 0000–9999.
    pub fn from_unix_millis(millis: i64) -> Result<Self, IdError> {
        let fail = || {
            IdError::new(
                Self::KIND,
                &millis.to_string(),
                "unix milliseconds outside years 0000-9999",
            )
        };
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map_err(|_| fail())?;
        Self::from_offset(t).ok_or_else(fail)
    }

    /// Milliseconds since the Unix epoch, rounded towards the past.
    pub fn unix_millis(&self) -> i64 {
        let millis = self.0.unix_timestamp_nanos().div_euclid(1_000_000);
        // Years 0000-9999 are about ±3e14 ms: always within i64.
        i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX })
    }

    /// This instant moved by `seconds` (negative moves back), saturating at the ends of the
    /// representable range rather than failing: a deadline cannot usefully exceed year 9999.
    #[must_use]
    pub fn plus_seconds(&self, seconds: i64) -> Self {
        self.0
            .checked_add(time::Duration::seconds(seconds))
            .and_then(Self::from_offset)
            .unwrap_or(if seconds < 0 { Self(MIN) } else { Self(MAX) })
    }

    /// The underlying date-time (always UTC).
    pub fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }

    /// The RFC 3339 text, e.g. `2026-11-23T08:55:26.123Z`.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }
}

impl TryFrom<OffsetDateTime> for Timestamp {
    type Error = IdError;

    fn try_from(t: OffsetDateTime) -> Result<Self, Self::Error> {
        Self::from_offset(t).ok_or_else(|| {
            IdError::new(
                Self::KIND,
                &format!("{t}"),
                "is outside years 0000-9999 in UTC",
            )
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cannot fail: the value is UTC and within years 0000-9999 by construction.
        let text = self.0.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl FromStr for Timestamp {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_to_utc() {
        let t = Timestamp::parse("2026-11-23T10:55:26.5+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-23T08:55:26.5Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-23T08:55:26.5Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn millis_round_trip() {
        let t = Timestamp::from_unix_millis(1_795_424_126_123).unwrap();
        assert_eq!(t.unix_millis(), 1_795_424_126_123);
        assert_eq!(t.to_string(), "2026-11-23T08:55:26.123Z");
        assert_eq!(Timestamp::from_unix_millis(-1).unwrap().unix_millis(), -1);
        assert!(Timestamp::from_unix_millis(i64::MAX).is_err());
    }

    #[test]
    fn plus_seconds_moves_and_saturates() {
        let t = Timestamp::parse("2026-11-23T08:55:26Z").unwrap();
        assert_eq!(t.plus_seconds(3600).to_string(), "2026-11-23T09:55:26Z");
        assert_eq!(t.plus_seconds(-86_400).to_string(), "2026-11-22T08:55:26Z");
        assert_eq!(
            t.plus_seconds(i64::MAX).to_string(),
            "9999-12-31T23:59:59.999999999Z"
        );
        assert_eq!(t.plus_seconds(i64::MIN).to_string(), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn refuses_junk() {
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23 08:55:26Z",
            "2026-11-23t08:55:26z",
            "2026-11-23T08:55:26",
            " 2026-11-23T08:55:26Z",
            "2026-11-23T08:55:26Z\n",
            "yesterday",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
