//! Frontend path templates: parsing and validation (behaviour.md §6.3).
//!
//! Owns the template grammar only: `/` followed by segments separated by
//! `/`, each either literal text (RFC 3986 `pchar`s), `{name}` or, in the
//! last position of an exact-match path, `{name+}`. It does not build the
//! tree or match requests; `route::path` does. Every [`TemplateError`]
//! message says what is wrong and how to fix it.

use super::path::{MAX_PARAMS, MatchMode};

/// Most segments one template may have. Lookup recursion follows the tree,
/// so this bounds its depth (and thus stack use) on every request.
pub(crate) const MAX_SEGMENTS: usize = 128;

/// One segment of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text, compared byte for byte (paths are case-sensitive, §6.3).
    Static(Box<str>),
    /// `{name}`: exactly one non-empty segment.
    Param(Box<str>),
    /// `{name+}`: one or more segments, last position only.
    Greedy(Box<str>),
}

/// A frontend path template, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Segments after the leading `/`. An exact-match template ending in
    /// `/` has a last empty static segment; a prefix-match template never
    /// does (`/test/` ≡ `/test`, and `/` has no segments at all).
    pub segments: Vec<Segment>,
}

impl Template {
    /// Parameter names in the order they appear (the order of
    /// [`Params`](super::path::Params) captures).
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Static(_) => None,
            Segment::Param(n) | Segment::Greedy(n) => Some(&**n),
        })
    }
}

/// Why a template is invalid; `Display` says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template does not start with `/`.
    #[error("path `{path}` must start with `/`; write `/{path}`")]
    MissingLeadingSlash {
        /// The template as written.
        path: Box<str>,
    },
    /// Two `/` in a row (an empty segment before the end).
    #[error("path `{path}` has an empty segment (`//`); remove the extra `/`")]
    EmptySegment {
        /// The template as written.
        path: Box<str>,
    },
    /// Text and a `{name}` share a segment.
    #[error(
        "segment `{segment}` mixes text and a parameter; a `{{name}}` must fill a whole \
         segment, e.g. write `/users/{{id}}` instead of `/users/u{{id}}`"
    )]
    PartialSegment {
        /// The offending segment.
        segment: Box<str>,
    },
    /// A `{` or `}` that does not enclose a whole segment.
    #[error(
        "segment `{segment}` has an unmatched `{{` or `}}`; write a parameter as `{{name}}` \
         filling a whole segment, or percent-encode the brace (`%7B`, `%7D`)"
    )]
    StrayBrace {
        /// The offending segment.
        segment: Box<str>,
    },
    /// The name between the braces is empty or has other characters.
    #[error(
        "parameter name `{name}` is invalid; use letters, digits, `_` and `-`, starting \
         with a letter or `_`, e.g. `{{user_id}}`"
    )]
    InvalidParamName {
        /// The text between the braces (without a trailing `+`).
        name: Box<str>,
    },
    /// `{name+}` somewhere other than the last segment.
    #[error(
        "greedy parameter `{{{name}+}}` must be the last segment; move it to the end, \
         e.g. `/files/{{{name}+}}`, or write `{{{name}}}` for a single segment"
    )]
    GreedyNotLast {
        /// The parameter's name.
        name: Box<str>,
    },
    /// `{name+}` in a prefix-match template (behaviour.md §27 C11).
    #[error(
        "greedy parameter `{{{name}+}}` is allowed only with exact match; set the match \
         mode to exact, or keep prefix match and drop `{{{name}+}}` (the prefix already \
         passes the rest of the path through)"
    )]
    GreedyWithPrefix {
        /// The parameter's name.
        name: Box<str>,
    },
    /// The same parameter name twice.
    #[error("parameter `{name}` appears more than once; give each path parameter its own name")]
    DuplicateParam {
        /// The repeated name.
        name: Box<str>,
    },
    /// More than [`MAX_PARAMS`] parameters.
    #[error(
        "path declares {count} parameters, more than the limit of {MAX_PARAMS}; merge some \
         segments or capture the tail with one greedy `{{rest+}}`"
    )]
    TooManyParams {
        /// How many the template declares.
        count: usize,
    },
    /// More than `MAX_SEGMENTS` segments.
    #[error(
        "path has {count} segments, more than the limit of {MAX_SEGMENTS}; shorten it or use \
         prefix match"
    )]
    TooManySegments {
        /// How many the template has.
        count: usize,
    },
    /// A character that is not an RFC 3986 `pchar` in literal text.
    #[error(
        "segment `{segment}` contains {ch:?}, which cannot appear in a path; \
         percent-encode it (e.g. a space as `%20`) or remove it"
    )]
    InvalidChar {
        /// The offending segment.
        segment: Box<str>,
        /// The first offending character.
        ch: char,
    },
    /// A `%` not followed by two hex digits.
    #[error(
        "segment `{segment}` has a `%` not followed by two hex digits; write `%25` for a literal `%`"
    )]
    BadPercentEncoding {
        /// The offending segment.
        segment: Box<str>,
    },
}

/// Parses and validates a template for a match mode.
///
/// For [`MatchMode::Prefix`] a trailing `/` is dropped, so `/` yields no
/// segments (the root prefix matching every path).
pub fn parse_template(path: &str, mode: MatchMode) -> Result<Template, TemplateError> {
    let Some(body) = path.strip_prefix('/') else {
        return Err(TemplateError::MissingLeadingSlash { path: path.into() });
    };
    let mut raw: Vec<&str> = body.split('/').collect();
    debug_assert!(!raw.is_empty(), "split always yields one piece");
    if mode == MatchMode::Prefix && raw.last() == Some(&"") {
        raw.pop();
    }
    if raw.len() > MAX_SEGMENTS {
        return Err(TemplateError::TooManySegments { count: raw.len() });
    }
    let last = raw.len().saturating_sub(1);
    let mut segments = Vec::with_capacity(raw.len());
    for (i, text) in raw.iter().enumerate() {
        // Only an exact template may end in an empty segment (a trailing `/`).
        if text.is_empty() && (i != last || mode == MatchMode::Prefix) {
            return Err(TemplateError::EmptySegment { path: path.into() });
        }
        let segment = parse_segment(text)?;
        if let Segment::Greedy(name) = &segment {
            if mode == MatchMode::Prefix {
                return Err(TemplateError::GreedyWithPrefix { name: name.clone() });
            }
            if i != last {
                return Err(TemplateError::GreedyNotLast { name: name.clone() });
            }
        }
        segments.push(segment);
    }
    let template = Template { segments };
    check_params(&template)?;
    debug_assert!(template.segments.len() <= MAX_SEGMENTS);
    Ok(template)
}

/// Classifies one segment's text.
fn parse_segment(text: &str) -> Result<Segment, TemplateError> {
    let open = text.find('{');
    let close = text.rfind('}');
    match (open, close) {
        (None, None) => {
            check_pchars(text)?;
            Ok(Segment::Static(text.into()))
        }
        (Some(0), Some(end)) if end + 1 == text.len() => parse_param(&text[1..end]),
        (Some(o), Some(c)) if o < c => Err(TemplateError::PartialSegment {
            segment: text.into(),
        }),
        _ => Err(TemplateError::StrayBrace {
            segment: text.into(),
        }),
    }
}

/// Parses the inside of `{...}`: `name` or `name+`.
fn parse_param(inner: &str) -> Result<Segment, TemplateError> {
    let (name, greedy) = match inner.strip_suffix('+') {
        Some(name) => (name, true),
        None => (inner, false),
    };
    if !is_param_name(name) {
        return Err(TemplateError::InvalidParamName { name: name.into() });
    }
    Ok(if greedy {
        Segment::Greedy(name.into())
    } else {
        Segment::Param(name.into())
    })
}

/// `[A-Za-z_][A-Za-z0-9_-]*`.
fn is_param_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Rejects anything outside RFC 3986 `pchar` (percent escapes included).
fn check_pchars(text: &str) -> Result<(), TemplateError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err(TemplateError::BadPercentEncoding {
                    segment: text.into(),
                });
            }
            i += 3;
            continue;
        }
        if !is_pchar(b) {
            let ch = text[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(TemplateError::InvalidChar {
                segment: text.into(),
                ch,
            });
        }
        i += 1;
    }
    Ok(())
}

/// RFC 3986 `pchar` minus `pct-encoded`: unreserved, sub-delims, `:`, `@`.
pub(crate) fn is_pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// Parameter count and name uniqueness.
fn check_params(template: &Template) -> Result<(), TemplateError> {
    let names: Vec<&str> = template.param_names().collect();
    if names.len() > MAX_PARAMS {
        return Err(TemplateError::TooManyParams { count: names.len() });
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(TemplateError::DuplicateParam {
                name: (*name).into(),
            });
        }
    }
    Ok(())
}
