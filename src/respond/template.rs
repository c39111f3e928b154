//! Gateway-response JSON templates (behaviour.md §18): the content of each
//! response type, with `$context.*` variables, compiled once at load time.
//!
//! Owns: the variable names (§18.3), finding them in a template, deciding
//! whether each sits inside a JSON string, checking the content is JSON, and
//! rendering a body with its exact length known up front. Rendering only
//! copies literal pieces and escapes variable values; it never rescans the
//! template.
//!
//! Does not own: which template or status an error uses (`error_map`), the
//! response head (`respond`), or reading templates from config (`control`).

use std::fmt;

use bytes::{BufMut, BytesMut};

/// The built-in default content of every response type (§18.1), byte for byte.
pub const DEFAULT_TEMPLATE: &str = r#"{"error_code": "$context.error.code", "error_msg": "$context.error.message", "request_id": "$context.requestId"}"#;

/// The marker that starts a variable (matched case-insensitively).
const CONTEXT_PREFIX: &[u8] = b"context.";

/// Longest authorizer property name, in bytes (§18.3 suggestion).
const MAX_PROPERTY_LEN: usize = 32;

/// A `$context.*` variable (§18.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextVar {
    /// `$context.apiId`: the API's ID.
    ApiId,
    /// `$context.appId`: the calling app's ID (empty on non-app APIs).
    AppId,
    /// `$context.requestId`: the request ID, as in `X-Request-Id`.
    RequestId,
    /// `$context.stage`: the environment the API was called in.
    Stage,
    /// `$context.sourceIp`: the caller's address.
    SourceIp,
    /// `$context.error.code`: e.g. `APIG.0308`.
    ErrorCode,
    /// `$context.error.message`: e.g. `The throttling threshold has been reached.`
    ErrorMessage,
    /// `$context.error.type`: the response-type key, e.g. `THROTTLED`.
    ErrorType,
    /// `$context.authorizer.frontend.<property>` (property matched as written).
    Frontend(Box<str>),
    /// `$context.authorizer.backend.<property>` (property matched as written).
    Backend(Box<str>),
}

/// The fixed variable names in canonical camelCase.
const FIXED_VARS: [(&str, ContextVar); 8] = [
    ("apiId", ContextVar::ApiId),
    ("appId", ContextVar::AppId),
    ("requestId", ContextVar::RequestId),
    ("stage", ContextVar::Stage),
    ("sourceIp", ContextVar::SourceIp),
    ("error.code", ContextVar::ErrorCode),
    ("error.message", ContextVar::ErrorMessage),
    ("error.type", ContextVar::ErrorType),
];

/// Prefix of the frontend authorizer variables, canonical spelling.
const FRONTEND_PREFIX: &str = "authorizer.frontend.";
/// Prefix of the backend authorizer variables, canonical spelling.
const BACKEND_PREFIX: &str = "authorizer.backend.";

impl fmt::Display for ContextVar {
    /// The canonical spelling, e.g. `$context.requestId`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextVar::Frontend(p) => write!(f, "$context.{FRONTEND_PREFIX}{p}"),
            ContextVar::Backend(p) => write!(f, "$context.{BACKEND_PREFIX}{p}"),
            fixed => {
                let name = FIXED_VARS
                    .iter()
                    .find(|(_, v)| v == fixed)
                    .map_or("", |(n, _)| n);
                write!(f, "$context.{name}")
            }
        }
    }
}

/// Values available when an error is rendered.
#[derive(Debug, Clone, Copy)]
pub struct ErrorContext<'a> {
    /// `$context.requestId`.
    pub request_id: &'a [u8],
    /// `$context.apiId` (empty when no API matched).
    pub api_id: &'a [u8],
    /// `$context.appId` (empty when no app authenticated).
    pub app_id: &'a [u8],
    /// `$context.stage`.
    pub stage: &'a [u8],
    /// `$context.sourceIp`.
    pub source_ip: &'a [u8],
    /// `$context.error.code`.
    pub error_code: &'a str,
    /// `$context.error.message`.
    pub error_message: &'a str,
    /// `$context.error.type`.
    pub error_type: &'a str,
    /// Frontend authorizer context key/value pairs (filled once custom
    /// authorizers exist; values as text: "abc", "1001", "true").
    pub frontend: &'a [(Box<str>, Box<str>)],
    /// Backend authorizer context key/value pairs, as `frontend`.
    pub backend: &'a [(Box<str>, Box<str>)],
}

impl<'a> ErrorContext<'a> {
    /// The value of `var`; an undefined one is empty.
    fn value(&self, var: &ContextVar) -> &'a [u8] {
        match var {
            ContextVar::ApiId => self.api_id,
            ContextVar::AppId => self.app_id,
            ContextVar::RequestId => self.request_id,
            ContextVar::Stage => self.stage,
            ContextVar::SourceIp => self.source_ip,
            ContextVar::ErrorCode => self.error_code.as_bytes(),
            ContextVar::ErrorMessage => self.error_message.as_bytes(),
            ContextVar::ErrorType => self.error_type.as_bytes(),
            ContextVar::Frontend(p) => property(self.frontend, p),
            ContextVar::Backend(p) => property(self.backend, p),
        }
    }
}

/// The value of authorizer property `key` (case-sensitive), or empty.
fn property<'a>(pairs: &'a [(Box<str>, Box<str>)], key: &str) -> &'a [u8] {
    pairs
        .iter()
        .find(|(k, _)| &**k == key)
        .map_or(&b""[..], |(_, v)| v.as_bytes())
}

/// Why a template was rejected at load time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `$context.<name>` is not a known variable; holds the name as written.
    #[error(
        "unknown variable `$context.{0}`; known: apiId, appId, requestId, stage, sourceIp, \
         error.code, error.message, error.type, authorizer.frontend.<property>, \
         authorizer.backend.<property>"
    )]
    UnknownVariable(String),
    /// An authorizer property name is longer than 32 characters; holds the
    /// variable as written.
    #[error("authorizer property in `$context.{0}` is longer than 32 characters")]
    PropertyTooLong(String),
    /// The content is not JSON once variables are substituted; holds
    /// serde_json's message.
    #[error("content is not JSON: {0}")]
    NotJson(String),
}

/// One compiled piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Bytes copied as they are.
    Literal(Box<[u8]>),
    /// A variable; `quoted` when it sits inside a JSON string.
    Var { var: ContextVar, quoted: bool },
}

/// A compiled gateway-response template: literal bytes and variables, with
/// each variable's JSON context decided at compile time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// INVARIANT: no two literals are adjacent, and no literal is empty.
    pieces: Box<[Piece]>,
    /// Sum of the literal pieces' lengths.
    literal_len: usize,
}

impl Template {
    /// Compiles `src`; checks every `$context.*` name and that the content is
    /// JSON (rendered with sample values and parsed with serde_json).
    pub fn compile(src: &str) -> Result<Template, TemplateError> {
        let template = Template::from_pieces(scan(src.as_bytes())?);
        // A string and a number fit together only where a JSON value goes,
        // so every substitution (string, number, boolean, null) fits there.
        for sample in [&b"sample"[..], b"1"] {
            let body = template.render_sample(sample);
            serde_json::from_slice::<serde_json::Value>(&body)
                .map_err(|e| TemplateError::NotJson(e.to_string()))?;
        }
        Ok(template)
    }

    /// The built-in default: [`DEFAULT_TEMPLATE`] compiled.
    pub fn builtin() -> Template {
        let lit = |s: &str| Piece::Literal(s.as_bytes().into());
        let var = |var| Piece::Var { var, quoted: true };
        Template::from_pieces(vec![
            lit(r#"{"error_code": ""#),
            var(ContextVar::ErrorCode),
            lit(r#"", "error_msg": ""#),
            var(ContextVar::ErrorMessage),
            lit(r#"", "request_id": ""#),
            var(ContextVar::RequestId),
            lit(r#""}"#),
        ])
    }

    /// Exact number of bytes [`Template::render`] will append (so
    /// Content-Length can be written before the body).
    pub fn rendered_len(&self, ctx: &ErrorContext<'_>) -> usize {
        self.len_with(|var| ctx.value(var))
    }

    /// Appends the rendered body to `out`. Callers that know
    /// [`Template::rendered_len`] may reserve it first.
    pub fn render(&self, ctx: &ErrorContext<'_>, out: &mut BytesMut) {
        let start = out.len();
        self.render_with(out, |var| ctx.value(var));
        debug_assert_eq!(
            out.len() - start,
            self.rendered_len(ctx),
            "rendered_len drifted from render"
        );
    }

    /// Builds a template from scanned pieces.
    fn from_pieces(pieces: Vec<Piece>) -> Template {
        debug_assert!(
            pieces
                .windows(2)
                .all(|w| !matches!(w, [Piece::Literal(_), Piece::Literal(_)])),
            "adjacent literals"
        );
        debug_assert!(
            pieces
                .iter()
                .all(|p| !matches!(p, Piece::Literal(b) if b.is_empty())),
            "empty literal"
        );
        let literal_len = pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(b) => b.len(),
                Piece::Var { .. } => 0,
            })
            .sum();
        Template {
            pieces: pieces.into_boxed_slice(),
            literal_len,
        }
    }

    /// The body with every variable set to `sample`.
    fn render_sample(&self, sample: &[u8]) -> BytesMut {
        let mut out = BytesMut::with_capacity(self.len_with(|_| sample));
        self.render_with(&mut out, |_| sample);
        out
    }

    /// Output length with variable values taken from `value`.
    fn len_with<'v>(&self, value: impl Fn(&ContextVar) -> &'v [u8]) -> usize {
        let vars: usize = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(_) => 0,
                Piece::Var { var, quoted } => Substitution::of(value(var), *quoted).len(),
            })
            .sum();
        self.literal_len + vars
    }

    /// Appends the output with variable values taken from `value`.
    fn render_with<'v>(&self, out: &mut BytesMut, value: impl Fn(&ContextVar) -> &'v [u8]) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(b) => out.put_slice(b),
                Piece::Var { var, quoted } => Substitution::of(value(var), *quoted).write(out),
            }
        }
    }
}

/// Lexical JSON string state, enough to tell whether a byte is inside a
/// string.
#[derive(Debug, Default, Clone, Copy)]
struct Lexer {
    in_string: bool,
    escaped: bool,
}

impl Lexer {
    /// Advances over one byte of literal template text.
    fn step(&mut self, b: u8) {
        debug_assert!(!self.escaped || self.in_string, "escape outside a string");
        if !self.in_string {
            self.in_string = b == b'"';
        } else if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_string = false;
        }
    }
}

/// Splits a template into literal pieces and variables.
fn scan(src: &[u8]) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut lexer = Lexer::default();
    let mut literal_start = 0;
    let mut i = 0;
    while i < src.len() {
        let name_at = i + 1 + CONTEXT_PREFIX.len();
        if src[i] == b'$' && !lexer.escaped && starts_with_ci(&src[i + 1..], CONTEXT_PREFIX) {
            let (var, name_len) = parse_name(&src[name_at..])?;
            push_literal(&mut pieces, &src[literal_start..i]);
            let quoted = lexer.in_string;
            pieces.push(Piece::Var { var, quoted });
            i = name_at + name_len;
            literal_start = i;
        } else {
            lexer.step(src[i]);
            i += 1;
        }
    }
    debug_assert!(i == src.len(), "scan overran the template");
    push_literal(&mut pieces, &src[literal_start..]);
    Ok(pieces)
}

/// Pushes a non-empty literal piece.
fn push_literal(pieces: &mut Vec<Piece>, bytes: &[u8]) {
    if !bytes.is_empty() {
        pieces.push(Piece::Literal(bytes.into()));
    }
}

/// Whether `s` starts with `prefix`, ASCII case-insensitively.
fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Parses the variable name at the start of `rest` (just after
/// `$context.`): the longest valid name wins, and the first byte that cannot
/// continue it ends it. Returns the variable and the bytes it spans.
fn parse_name(rest: &[u8]) -> Result<(ContextVar, usize), TemplateError> {
    for (prefix, authorizer) in [
        (
            FRONTEND_PREFIX,
            ContextVar::Frontend as fn(Box<str>) -> ContextVar,
        ),
        (BACKEND_PREFIX, ContextVar::Backend),
    ] {
        if starts_with_ci(rest, prefix.as_bytes()) {
            return parse_property(rest, prefix.len(), authorizer);
        }
    }
    FIXED_VARS
        .iter()
        .filter(|(name, _)| starts_with_ci(rest, name.as_bytes()))
        .max_by_key(|(name, _)| name.len())
        .map(|(name, var)| (var.clone(), name.len()))
        .ok_or_else(|| TemplateError::UnknownVariable(written_name(rest)))
}

/// Parses the property after an authorizer prefix of `prefix_len` bytes.
fn parse_property(
    rest: &[u8],
    prefix_len: usize,
    make: fn(Box<str>) -> ContextVar,
) -> Result<(ContextVar, usize), TemplateError> {
    let prop_len = rest[prefix_len..]
        .iter()
        .take_while(|&&b| is_property_byte(b))
        .count();
    let end = prefix_len + prop_len;
    if prop_len == 0 {
        return Err(TemplateError::UnknownVariable(written_name(rest)));
    }
    if prop_len > MAX_PROPERTY_LEN {
        return Err(TemplateError::PropertyTooLong(ascii(&rest[..end])));
    }
    let prop = ascii(&rest[prefix_len..end]).into_boxed_str();
    Ok((make(prop), end))
}

/// Bytes allowed in an authorizer property name.
fn is_property_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The name-like run at the start of `rest`, for error messages.
fn written_name(rest: &[u8]) -> String {
    let len = rest
        .iter()
        .take_while(|&&b| is_property_byte(b) || b == b'.')
        .count();
    ascii(&rest[..len])
}

/// Text of bytes already checked to be ASCII name bytes.
fn ascii(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// How one variable value is written, decided from its bytes and whether
/// it sits inside a JSON string.
#[derive(Debug, Clone, Copy)]
enum Substitution<'v> {
    /// Inside a string: the value JSON-escaped.
    Escaped(&'v [u8]),
    /// Outside a string, a JSON literal (number, true, false, null): as is.
    Raw(&'v [u8]),
    /// Outside a string, any other text: a quoted, escaped JSON string.
    Quoted(&'v [u8]),
    /// Outside a string, an empty or undefined value.
    Null,
}

impl<'v> Substitution<'v> {
    /// Classifies `value` for a variable inside (`quoted`) or outside a string.
    fn of(value: &'v [u8], quoted: bool) -> Self {
        if quoted {
            Substitution::Escaped(value)
        } else if value.is_empty() {
            Substitution::Null
        } else if is_json_literal(value) {
            Substitution::Raw(value)
        } else {
            Substitution::Quoted(value)
        }
    }

    /// Bytes [`Substitution::write`] appends.
    fn len(self) -> usize {
        match self {
            Substitution::Escaped(v) => escaped_len(v),
            Substitution::Raw(v) => v.len(),
            Substitution::Quoted(v) => escaped_len(v) + 2,
            Substitution::Null => b"null".len(),
        }
    }

    /// Appends the substituted text.
    fn write(self, out: &mut BytesMut) {
        match self {
            Substitution::Escaped(v) => write_escaped(v, out),
            Substitution::Raw(v) => out.put_slice(v),
            Substitution::Quoted(v) => {
                out.put_u8(b'"');
                write_escaped(v, out);
                out.put_u8(b'"');
            }
            Substitution::Null => out.put_slice(b"null"),
        }
    }
}

/// Whether `v` is a JSON literal: `true`, `false`, `null` or a number.
fn is_json_literal(v: &[u8]) -> bool {
    matches!(v, b"true" | b"false" | b"null") || is_json_number(v)
}

/// Whether `v` is a number in JSON's grammar (shared with NUMBER input
/// parameters, behaviour.md §6.5).
fn is_json_number(v: &[u8]) -> bool {
    crate::policy::params::is_number(v)
}

/// Length of `v` once JSON-escaped by [`write_escaped`].
fn escaped_len(v: &[u8]) -> usize {
    v.iter()
        .map(|&b| match b {
            b'"' | b'\\' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

/// Appends `v` JSON-escaped: `"` and `\` backslashed, control bytes as
/// `\u00XX`, every other byte verbatim.
fn write_escaped(v: &[u8], out: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut plain_start = 0;
    for (i, &b) in v.iter().enumerate() {
        if !matches!(b, b'"' | b'\\' | 0..=0x1f) {
            continue;
        }
        out.put_slice(&v[plain_start..i]);
        plain_start = i + 1;
        match b {
            b'"' | b'\\' => out.put_slice(&[b'\\', b]),
            _ => {
                out.put_slice(b"\\u00");
                out.put_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
            }
        }
    }
    out.put_slice(&v[plain_start..]);
}

#[cfg(test)]
mod tests;
