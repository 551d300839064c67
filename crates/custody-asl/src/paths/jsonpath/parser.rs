//! The JSONPath grammar Step Functions accepts, parsed into [`JsonPath`] segments.

use super::*;

/// Parses a whole path (`$…` or `$$…`): its root and its segments, refusing trailing text.
pub(super) fn parse(source: &str) -> Result<(Root, Vec<Segment>), PathSyntaxError> {
    let mut p = Parser {
        s: source.as_bytes(),
        src: source,
        pos: 0,
    };
    let root = p.root()?;
    let mut segments = Vec::new();
    if root == Root::Variable {
        // `$name...`: the variable's name is the first property of the variables document.
        let start = p.pos;
        while matches!(p.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80) {
            p.pos += 1;
        }
        segments.push(Segment::Property(source[start..p.pos].to_owned()));
    }
    segments.extend(p.segments(false)?);
    if p.pos != p.s.len() {
        return Err(p.err("unexpected character"));
    }
    Ok((root, segments))
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &str) -> PathSyntaxError {
        PathSyntaxError {
            reason: reason.to_owned(),
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn root(&mut self) -> Result<Root, PathSyntaxError> {
        if !self.eat(b'$') {
            return Err(self.err("a path must start with '$'"));
        }
        Ok(if self.eat(b'$') {
            Root::Context
        } else if matches!(self.peek(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
        {
            Root::Variable
        } else {
            Root::Input
        })
    }

    /// Segments until the end, or (inside a filter) until a character that ends an operand.
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Segment>, PathSyntaxError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(b'.') => {
                    if self.s.get(self.pos + 1) == Some(&b'.') {
                        self.pos += 2;
                        let inner = match self.peek() {
                            Some(b'[') => self.bracket()?,
                            Some(b'*') => {
                                self.pos += 1;
                                Segment::Wildcard
                            }
                            _ => Segment::Property(self.name(in_filter)?),
                        };
                        out.push(Segment::DeepScan(Box::new(inner)));
                    } else {
                        self.pos += 1;
                        match self.peek() {
                            Some(b'*') => {
                                self.pos += 1;
                                out.push(Segment::Wildcard);
                            }
                            Some(b'[') => out.push(self.bracket()?),
                            _ => out.push(Segment::Property(self.name(in_filter)?)),
                        }
                    }
                }
                Some(b'[') => out.push(self.bracket()?),
                Some(_) if in_filter => break,
                Some(_) => return Err(self.err("expected '.' or '['")),
            }
        }
        Ok(out)
    }

    fn name(&mut self, in_filter: bool) -> Result<String, PathSyntaxError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop = c == b'.'
                || c == b'['
                || (in_filter
                    && matches!(c, b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|'));
            if stop {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("expected a property name"));
        }
        Ok(self.src[start..self.pos].to_owned())
    }

    fn quoted(&mut self) -> Result<String, PathSyntaxError> {
        let Some(q) = self.peek() else {
            return Err(self.err("expected a quote"));
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            if c == q {
                self.pos += 1;
                return Ok(out);
            }
            if c == b'\\'
                && let Some(&n) = self.s.get(self.pos + 1)
            {
                out.push(char::from(n));
                self.pos += 2;
                continue;
            }
            let ch_len = utf8_len(c);
            out.push_str(&self.src[self.pos..self.pos + ch_len]);
            self.pos += ch_len;
        }
    }

    fn int(&mut self) -> Result<i64, PathSyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.src[start..self.pos]
            .parse()
            .map_err(|_| PathSyntaxError {
                reason: "expected an integer".into(),
                offset: start,
            })
    }

    fn bracket(&mut self) -> Result<Segment, PathSyntaxError> {
        self.pos += 1; // '['
        self.skip_ws();
        let seg = match self.peek() {
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.eat(b',') {
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                if names.len() == 1 {
                    Segment::Property(names.remove(0))
                } else {
                    Segment::Properties(names)
                }
            }
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                if !self.eat(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let expr = self.filter_or()?;
                self.skip_ws();
                if !self.eat(b')') {
                    return Err(self.err("expected ')' closing the filter"));
                }
                Segment::Filter(Box::new(expr))
            }
            Some(b':') => {
                self.pos += 1;
                self.skip_ws();
                let to = if self.peek() == Some(b']') {
                    None
                } else {
                    Some(self.int()?)
                };
                Segment::Slice(None, to)
            }
            Some(b'-' | b'0'..=b'9') => {
                let first = self.int()?;
                self.skip_ws();
                if self.eat(b':') {
                    self.skip_ws();
                    let to = if self.peek() == Some(b']') {
                        None
                    } else {
                        Some(self.int()?)
                    };
                    Segment::Slice(Some(first), to)
                } else if self.peek() == Some(b',') {
                    let mut idx = vec![first];
                    while self.eat(b',') {
                        self.skip_ws();
                        idx.push(self.int()?);
                        self.skip_ws();
                    }
                    Segment::Indexes(idx)
                } else {
                    Segment::Index(first)
                }
            }
            _ => return Err(self.err("unexpected character in brackets")),
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err(self.err("expected ']'"));
        }
        Ok(seg)
    }

    fn filter_or(&mut self) -> Result<FilterExpr, PathSyntaxError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.s[self.pos..].starts_with(b"||") {
                self.pos += 2;
                let right = self.filter_and()?;
                left = FilterExpr::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<FilterExpr, PathSyntaxError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.s[self.pos..].starts_with(b"&&") {
                self.pos += 2;
                let right = self.filter_unary()?;
                left = FilterExpr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<FilterExpr, PathSyntaxError> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.s.get(self.pos + 1) != Some(&b'=') {
            self.pos += 1;
            return Ok(FilterExpr::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat(b'(') {
            let e = self.filter_or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err(self.err("expected ')'"));
            }
            return Ok(e);
        }
        let left = self.filter_operand()?;
        self.skip_ws();
        let op = if self.s[self.pos..].starts_with(b"==") {
            Some((CompareOp::Eq, 2))
        } else if self.s[self.pos..].starts_with(b"!=") {
            Some((CompareOp::Ne, 2))
        } else if self.s[self.pos..].starts_with(b"<=") {
            Some((CompareOp::Le, 2))
        } else if self.s[self.pos..].starts_with(b">=") {
            Some((CompareOp::Ge, 2))
        } else if self.peek() == Some(b'<') {
            Some((CompareOp::Lt, 1))
        } else if self.peek() == Some(b'>') {
            Some((CompareOp::Gt, 1))
        } else {
            None
        };
        match op {
            None => Ok(FilterExpr::Exists(left)),
            Some((op, n)) => {
                self.pos += n;
                self.skip_ws();
                let right = self.filter_operand()?;
                Ok(FilterExpr::Compare(left, op, right))
            }
        }
    }

    fn filter_operand(&mut self) -> Result<FilterOperand, PathSyntaxError> {
        self.skip_ws();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                Ok(FilterOperand::Current(self.segments(true)?))
            }
            Some(b'$') => {
                self.pos += 1;
                Ok(FilterOperand::Root(self.segments(true)?))
            }
            Some(b'\'' | b'"') => Ok(FilterOperand::Literal(Value::String(self.quoted()?))),
            _ => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if matches!(c, b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|') {
                        break;
                    }
                    self.pos += 1;
                }
                let text = &self.src[start..self.pos];
                serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(|v| !v.is_object() && !v.is_array())
                    .map(FilterOperand::Literal)
                    .ok_or(PathSyntaxError {
                        reason: format!("unexpected filter operand {text:?}"),
                        offset: start,
                    })
            }
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}
