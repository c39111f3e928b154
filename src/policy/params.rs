//! Input parameters (behaviour.md §6.5): find each defined parameter in the
//! request, apply its default, and check mandatory, length and type. A
//! violation is `400 APIG.0201 "API request error."` (§2 step 13).
//!
//! Values stay where they were read (spans into the head); decoding happens
//! only where a value is checked or moved to another location.

use std::borrow::Cow;

use crate::error::{GatewayError, ParamFault};
use crate::http::{RequestHead, Span, percent, query};
use crate::route::RouteMatch;

/// Where a parameter is carried (§6.5, §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// A header.
    Header,
    /// A query-string pair.
    Query,
}

/// A parameter's declared type (§6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Any text.
    String,
    /// A decimal number (`-12`, `3.5`, `1e3`).
    Number,
}

/// A compiled input parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputParam {
    /// Name as configured; compared case-insensitively (§6.5).
    pub name: Box<str>,
    /// Location.
    pub location: Location,
    /// Type.
    pub kind: ParamType,
    /// Requests without it are rejected.
    pub required: bool,
    /// Used when the request omits it (plain text, not encoded).
    pub default: Option<Box<[u8]>>,
    /// Shortest value, characters.
    pub min_len: Option<u32>,
    /// Longest value, characters.
    pub max_len: Option<u32>,
    /// PATH: the capture index in the route's parameters.
    pub capture: u8,
    /// Some backend maps it into its path: `.` and `..` are refused.
    pub to_path: bool,
}

/// How a value's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As is (headers, defaults).
    Plain,
    /// Percent-encoded, from the path.
    PathEncoded,
    /// Percent-encoded, from the query string.
    QueryEncoded,
}

/// One parameter value of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    /// The bytes as found.
    pub bytes: &'a [u8],
    /// Their encoding.
    pub form: Form,
}

impl<'a> Value<'a> {
    /// The value percent-decoded (borrowed when nothing to decode).
    pub fn decoded(&self) -> Cow<'a, [u8]> {
        match self.form {
            Form::Plain => Cow::Borrowed(self.bytes),
            Form::PathEncoded | Form::QueryEncoded => percent::decode(self.bytes),
        }
    }
}

/// Where a parameter's value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// Span into the request path.
    Path(Span),
    /// Span into the head buffer (a header value).
    Header(Span),
    /// Span into the head buffer (a query value).
    Query(Span),
    /// Absent; the parameter's default applies.
    Default,
}

/// The validated input values of one request, by parameter index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    found: Vec<Option<Found>>,
}

impl Inputs {
    /// No parameters.
    pub const NONE: Inputs = Inputs { found: Vec::new() };

    /// The value of parameter `i` (after default injection), if any.
    pub fn get<'a>(
        &self,
        i: usize,
        params: &'a [InputParam],
        head: &'a RequestHead,
    ) -> Option<Value<'a>> {
        value_of((*self.found.get(i)?)?, params.get(i)?, head)
    }

    /// Whether parameter `i` was absent and took its default.
    pub fn is_default(&self, i: usize) -> bool {
        matches!(self.found.get(i), Some(Some(Found::Default)))
    }
}

fn value_of<'a>(found: Found, p: &'a InputParam, head: &'a RequestHead) -> Option<Value<'a>> {
    Some(match found {
        Found::Path(s) => Value {
            bytes: s.of(head.routed_path()),
            form: Form::PathEncoded,
        },
        Found::Header(s) => Value {
            bytes: head.slice(s),
            form: Form::Plain,
        },
        Found::Query(s) => Value {
            bytes: head.slice(s),
            form: Form::QueryEncoded,
        },
        Found::Default => Value {
            bytes: p.default.as_deref()?,
            form: Form::Plain,
        },
    })
}

/// Finds and checks every parameter of an API (§6.5).
pub fn check(
    params: &[InputParam],
    head: &RequestHead,
    route: &RouteMatch,
) -> Result<Inputs, GatewayError> {
    if params.is_empty() {
        return Ok(Inputs::NONE);
    }
    let mut found = Vec::with_capacity(params.len());
    for (i, p) in params.iter().enumerate() {
        let fault = |fault| GatewayError::InvalidParameter {
            param: i as u16,
            fault,
        };
        let f = match locate(p, head, route).map_err(fault)? {
            Some(f) => f,
            None if p.required => return Err(fault(ParamFault::Missing)),
            None if p.default.is_some() => {
                found.push(Some(Found::Default));
                continue;
            }
            None => {
                found.push(None);
                continue;
            }
        };
        if let Some(v) = value_of(f, p, head) {
            validate(p, &v.decoded()).map_err(fault)?;
        }
        found.push(Some(f));
    }
    debug_assert_eq!(found.len(), params.len());
    Ok(Inputs { found })
}

/// Where the request carries `p`; `Err` when it carries it twice (only
/// the first would be checked, while every copy is passed on).
fn locate(
    p: &InputParam,
    head: &RequestHead,
    route: &RouteMatch,
) -> Result<Option<Found>, ParamFault> {
    let name = p.name.as_bytes();
    match p.location {
        Location::Path => Ok(route
            .params
            .as_slice()
            .get(p.capture as usize)
            .map(|s| Found::Path(*s))),
        Location::Header => {
            let mut lines = head.headers.iter().filter(|h| {
                h.kind.is_end_to_end()
                    && h.name.len() == name.len()
                    && head.slice(h.name).eq_ignore_ascii_case(name)
            });
            let first = lines.next().map(|h| Found::Header(h.value));
            if lines.next().is_some() {
                return Err(ParamFault::Repeated);
            }
            Ok(first)
        }
        Location::Query => {
            let Some(q) = head.query else {
                return Ok(None);
            };
            let mut pairs =
                query::pairs(head.slice(q)).filter(|pair| query::key_is(pair.key, name));
            let first = pairs.next().map(|pair| {
                // The value ends the pair; its start follows `key=`.
                let end = q.start as usize + pair.range.end;
                Found::Query(Span::new(end - pair.value.len(), end))
            });
            if pairs.next().is_some() {
                return Err(ParamFault::Repeated);
            }
            Ok(first)
        }
    }
}

/// Checks one present value (decoded) against its definition.
fn validate(p: &InputParam, value: &[u8]) -> Result<(), ParamFault> {
    // A control character could split a header it is mapped into.
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(ParamFault::ControlCharacter);
    }
    let chars = char_count(value);
    if p.min_len.is_some_and(|min| chars < min as usize) {
        return Err(ParamFault::TooShort);
    }
    if p.max_len.is_some_and(|max| chars > max as usize) {
        return Err(ParamFault::TooLong);
    }
    if p.kind == ParamType::Number && !is_number(value) {
        return Err(ParamFault::NotANumber);
    }
    if p.to_path && (value == b"." || value == b"..") {
        return Err(ParamFault::DotSegment);
    }
    Ok(())
}

/// Characters of a UTF-8 value (bytes that do not continue a character);
/// for other bytes, the byte count.
fn char_count(v: &[u8]) -> usize {
    v.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// A number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub fn is_number(v: &[u8]) -> bool {
    let v = v.strip_prefix(b"-").unwrap_or(v);
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(v);
    if int == 0 || (v.first() == Some(&b'0') && int > 1) {
        return false;
    }
    let mut rest = &v[int..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = digits(frac);
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    if let Some(exp) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exp = exp
            .strip_prefix(b"+")
            .or_else(|| exp.strip_prefix(b"-"))
            .unwrap_or(exp);
        let n = digits(exp);
        if n == 0 {
            return false;
        }
        rest = &exp[n..];
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests;
