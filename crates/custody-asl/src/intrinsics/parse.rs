//! The intrinsic call grammar: `States.Name(arg, ...)`, where an argument is a single-quoted
//! string (escapes `\'`, `\{`, `\}`, `\\`), a number, `true`/`false`/`null`, a path (`$...` or
//! `$$...`) or a nested call.

use crate::paths::JsonPath;
use serde_json::Value;

/// The intrinsic functions Step Functions offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "States.Format" => Self::Format,
            "States.StringToJson" => Self::StringToJson,
            "States.JsonToString" => Self::JsonToString,
            "States.Array" => Self::Array,
            "States.ArrayPartition" => Self::ArrayPartition,
            "States.ArrayContains" => Self::ArrayContains,
            "States.ArrayRange" => Self::ArrayRange,
            "States.ArrayGetItem" => Self::ArrayGetItem,
            "States.ArrayLength" => Self::ArrayLength,
            "States.ArrayUnique" => Self::ArrayUnique,
            "States.Base64Encode" => Self::Base64Encode,
            "States.Base64Decode" => Self::Base64Decode,
            "States.Hash" => Self::Hash,
            "States.JsonMerge" => Self::JsonMerge,
            "States.MathRandom" => Self::MathRandom,
            "States.MathAdd" => Self::MathAdd,
            "States.StringSplit" => Self::StringSplit,
            "States.UUID" => Self::Uuid,
            _ => return None,
        })
    }

    /// The function's name as written in a definition.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Format => "States.Format",
            Self::StringToJson => "States.StringToJson",
            Self::JsonToString => "States.JsonToString",
            Self::Array => "States.Array",
            Self::ArrayPartition => "States.ArrayPartition",
            Self::ArrayContains => "States.ArrayContains",
            Self::ArrayRange => "States.ArrayRange",
            Self::ArrayGetItem => "States.ArrayGetItem",
            Self::ArrayLength => "States.ArrayLength",
            Self::ArrayUnique => "States.ArrayUnique",
            Self::Base64Encode => "States.Base64Encode",
            Self::Base64Decode => "States.Base64Decode",
            Self::Hash => "States.Hash",
            Self::JsonMerge => "States.JsonMerge",
            Self::MathRandom => "States.MathRandom",
            Self::MathAdd => "States.MathAdd",
            Self::StringSplit => "States.StringSplit",
            Self::Uuid => "States.UUID",
        }
    }

    /// Allowed argument counts (min, max).
    fn arity(self) -> (usize, usize) {
        match self {
            Self::Format => (1, usize::MAX),
            Self::Array => (0, usize::MAX),
            Self::StringToJson | Self::JsonToString | Self::ArrayLength | Self::ArrayUnique => {
                (1, 1)
            }
            Self::Base64Encode | Self::Base64Decode => (1, 1),
            Self::ArrayPartition | Self::ArrayContains | Self::ArrayGetItem | Self::Hash => (2, 2),
            Self::MathAdd | Self::StringSplit => (2, 2),
            Self::ArrayRange | Self::JsonMerge => (3, 3),
            Self::MathRandom => (2, 3),
            Self::Uuid => (0, 0),
        }
    }
}

/// One argument of a call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// A number, boolean or null literal.
    Literal(Value),
    /// A quoted string: its value, and its raw text (States.Format needs to tell `\{` from `{`).
    Str { value: String, raw: String },
    /// A path into the input or the context object.
    Path(JsonPath),
    /// A nested call.
    Call(Box<Call>),
}

/// A parsed intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub func: Func,
    pub args: Vec<Arg>,
    pub source: String,
}

impl Call {
    /// Whether any argument reads the context object.
    pub(crate) fn uses_context(&self) -> bool {
        self.args.iter().any(|a| match a {
            Arg::Path(p) => p.root() != crate::paths::Root::Input,
            Arg::Call(c) => c.uses_context(),
            _ => false,
        })
    }
}

/// Parses a whole string as one intrinsic call.
///
/// # Errors
/// A reason suitable for a validation error.
pub(crate) fn parse_call(text: &str) -> Result<Call, String> {
    let mut p = P { s: text, pos: 0 };
    p.ws();
    let call = p.call()?;
    p.ws();
    if p.pos != text.len() {
        return Err(format!(
            "unexpected text after the intrinsic call at offset {}",
            p.pos
        ));
    }
    Ok(call)
}

struct P<'a> {
    s: &'a str,
    pos: usize,
}

impl P<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn ws(&mut self) {
        while self.rest().starts_with([' ', '\t', '\n', '\r']) {
            self.pos += 1;
        }
    }

    fn call(&mut self) -> Result<Call, String> {
        let start = self.pos;
        let name_len = self
            .rest()
            .find('(')
            .ok_or_else(|| "an intrinsic call needs '('".to_owned())?;
        let name = self.rest()[..name_len].trim();
        let func =
            Func::from_name(name).ok_or_else(|| format!("unknown intrinsic function {name:?}"))?;
        self.pos += name_len + 1;
        let mut args = Vec::new();
        self.ws();
        if self.rest().starts_with(')') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg()?);
                self.ws();
                if self.rest().starts_with(',') {
                    self.pos += 1;
                } else if self.rest().starts_with(')') {
                    self.pos += 1;
                    break;
                } else {
                    return Err(format!(
                        "expected ',' or ')' at offset {} in {}",
                        self.pos,
                        func.name()
                    ));
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(format!(
                "{} takes {expected} argument(s), got {}",
                func.name(),
                args.len()
            ));
        }
        check_literal_types(func, &args)?;
        Ok(Call {
            func,
            args,
            source: self.s[start..self.pos].to_owned(),
        })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string();
        }
        if rest.starts_with('$') {
            let end = path_end(rest);
            let text = rest[..end].trim_end();
            let path = JsonPath::parse(text)
                .map_err(|e| format!("invalid path {text:?} in intrinsic: {e}"))?;
            self.pos += end;
            return Ok(Arg::Path(path));
        }
        if rest.starts_with("States.") {
            return Ok(Arg::Call(Box::new(self.call()?)));
        }
        let end = rest.find([',', ')']).unwrap_or(rest.len());
        let text = rest[..end].trim();
        let value: Value = serde_json::from_str(text)
            .map_err(|_| format!("invalid intrinsic argument {text:?}"))?;
        if value.is_object() || value.is_array() || value.is_string() {
            return Err(format!("invalid intrinsic argument {text:?}"));
        }
        self.pos += end;
        Ok(Arg::Literal(value))
    }

    fn string(&mut self) -> Result<Arg, String> {
        self.pos += 1;
        let mut value = String::new();
        let mut raw = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(Arg::Str { value, raw });
                }
                '\\' => {
                    let Some((_, n)) = chars.next() else { break };
                    raw.push('\\');
                    raw.push(n);
                    value.push(n);
                }
                c => {
                    raw.push(c);
                    value.push(c);
                }
            }
        }
        Err("unterminated string literal in intrinsic".to_owned())
    }
}

/// Where a path argument ends: the first `,` or `)` outside brackets and quotes.
fn path_end(s: &str) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, ')') if depth > 0 => depth -= 1,
            (None, ',' | ')') if depth == 0 => return i,
            _ => {}
        }
    }
    s.len()
}

/// Literal arguments whose type is already known to be wrong are validation errors.
fn check_literal_types(func: Func, args: &[Arg]) -> Result<(), String> {
    let is_str = |a: &Arg| matches!(a, Arg::Str { .. } | Arg::Path(_) | Arg::Call(_));
    let is_num = |a: &Arg| {
        matches!(
            a,
            Arg::Literal(Value::Number(_)) | Arg::Path(_) | Arg::Call(_)
        )
    };
    let bad = |what: &str| Err(format!("{} expects {what}", func.name()));
    match func {
        Func::Format if !is_str(&args[0]) => bad("a string as its first argument"),
        Func::StringToJson | Func::Base64Encode | Func::Base64Decode if !is_str(&args[0]) => {
            bad("a string")
        }
        Func::StringSplit if !is_str(&args[0]) || !is_str(&args[1]) => bad("two strings"),
        Func::Hash if !is_str(&args[1]) => bad("an algorithm name as its second argument"),
        Func::MathAdd if !is_num(&args[0]) || !is_num(&args[1]) => bad("two numbers"),
        Func::ArrayRange if !args.iter().all(is_num) => bad("three numbers"),
        Func::MathRandom if !args.iter().all(is_num) => bad("numbers"),
        Func::ArrayPartition | Func::ArrayGetItem if !is_num(&args[1]) => {
            bad("a number as its second argument")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_calls_paths_and_escapes() {
        let c = parse_call(
            "States.Format('a \\'{}\\' \\{}', States.ArrayGetItem($.a[0,1], 1), $$.Execution.Id)",
        )
        .unwrap();
        assert_eq!(c.func, Func::Format);
        assert_eq!(c.args.len(), 3);
        assert!(matches!(&c.args[0], Arg::Str { value, .. } if value == "a '{}' {}"));
        assert!(matches!(&c.args[1], Arg::Call(inner) if inner.func == Func::ArrayGetItem));
        assert!(c.uses_context());
    }

    #[test]
    fn rejects_bad_calls() {
        assert!(parse_call("States.Nope()").unwrap_err().contains("unknown"));
        assert!(
            parse_call("States.UUID(1)")
                .unwrap_err()
                .contains("takes 0")
        );
        assert!(
            parse_call("States.MathAdd('a', 1)")
                .unwrap_err()
                .contains("two numbers")
        );
        assert!(parse_call("States.Format('x'").is_err());
        assert!(parse_call("States.Array(1) x").is_err());
    }
}
