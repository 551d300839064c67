//! Timestamps as the States language accepts them: RFC 3339 with an uppercase `T` and, when
//! there is no numeric offset, an uppercase `Z`; formatted back with millisecond precision as
//! Step Functions prints them in the context object and history.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses a States-language timestamp, or `None` if it is not one.
pub(crate) fn parse(s: &str) -> Option<OffsetDateTime> {
    let bytes = s.as_bytes();
    if bytes.get(10) != Some(&b'T') || s.ends_with('z') {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Formats `t` in UTC as `2024-01-02T03:04:05.678Z`.
pub fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_strict_profile() {
        assert!(parse("2016-03-14T01:59:00Z").is_some());
        assert!(parse("2016-03-14T01:59:00.123+02:00").is_some());
        assert!(parse("2016-03-14t01:59:00Z").is_none());
        assert!(parse("2016-03-14T01:59:00z").is_none());
        assert!(parse("2016-03-14").is_none());
        assert!(parse("yesterday").is_none());
    }

    #[test]
    fn formats_with_milliseconds_in_utc() {
        let t = parse("2016-03-14T03:59:00.5+02:00").unwrap();
        assert_eq!(format(t), "2016-03-14T01:59:00.500Z");
    }
}
