//! Backend parameters on the wire (behaviour.md §9): mapped inputs,
//! constants and system parameters written into the path, query and
//! headers, with the §9.2 percent-encoding for PATH and QUERY values.
//! Headers are written verbatim (input validation refused control
//! characters; constants were checked at load).

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use super::Request;
use crate::backend::{Mapping, Source, SystemParam};
use crate::http::percent::{self, EncodeSet};
use crate::http::{query, write};
use crate::policy::params::{Form, Location, Value};

/// The client's end-to-end headers, less those the mapping drops.
/// With `signing`, the client's signature headers are dropped: the
/// gateway writes its own (§12).
pub(super) fn client_headers(out: &mut BytesMut, req: &Request<'_>, mapping: &Mapping) {
    let head = req.head;
    let signing = req.signer.is_some();
    for h in head.headers.iter().filter(|h| h.kind.is_end_to_end()) {
        let name = head.slice(h.name);
        if req.drop_underscored && name.contains(&b'_') {
            continue;
        }
        if !mapping.drop_headers.is_empty() && listed(&mapping.drop_headers, name) {
            continue;
        }
        if signing
            && super::sign::OWNED
                .iter()
                .any(|o| name.eq_ignore_ascii_case(o))
        {
            continue;
        }
        write::header(out, name, head.slice(h.value));
    }
}

/// HEADER targets and the defaults of absent unmapped HEADER inputs.
pub(super) fn headers(out: &mut BytesMut, req: &Request<'_>, mapping: &Mapping) {
    for &i in &mapping.default_headers {
        if let Some(v) = default_of(req, i) {
            write::header(out, v.0, v.1);
        }
    }
    for t in mapping
        .targets
        .iter()
        .filter(|t| t.location == Location::Header)
    {
        if let Some(v) = text(req, &t.source) {
            write::header(out, &t.name, &v);
        }
    }
}

/// `?query`: passed through as received, or rebuilt without the dropped
/// keys and with the QUERY targets and defaults appended.
pub(super) fn query(out: &mut BytesMut, req: &Request<'_>, mapping: &Mapping) {
    let head = req.head;
    if mapping.keeps_query() {
        if let Some(q) = head.query {
            out.put_u8(b'?');
            out.put_slice(head.slice(q));
        }
        return;
    }
    let mut first = true;
    let mut sep = |out: &mut BytesMut| {
        out.put_u8(if first { b'?' } else { b'&' });
        first = false;
    };
    if let Some(q) = head.query {
        let raw = head.slice(q);
        for pair in query::pairs(raw) {
            if mapping
                .drop_queries
                .iter()
                .any(|k| query::key_is(pair.key, k))
            {
                continue;
            }
            sep(out);
            out.put_slice(raw.get(pair.range.clone()).unwrap_or_default());
        }
    }
    for &i in &mapping.default_queries {
        if let Some((name, value)) = default_of(req, i) {
            sep(out);
            percent::encode(name, EncodeSet::Query, out);
            out.put_u8(b'=');
            percent::encode(value, EncodeSet::Query, out);
        }
    }
    for t in mapping
        .targets
        .iter()
        .filter(|t| t.location == Location::Query)
    {
        // An absent optional input adds nothing, as for HEADER targets:
        // `name=` would tell the backend the client sent an empty value.
        if let Source::Input(i) = t.source
            && input(req, i).is_none()
        {
            continue;
        }
        sep(out);
        out.put_slice(&t.name);
        out.put_u8(b'=');
        encoded(out, req, &t.source, EncodeSet::Query);
    }
}

/// A backend PATH parameter's value, PATH-encoded (§9.2).
pub(super) fn path_value(out: &mut BytesMut, req: &Request<'_>, source: &Source) {
    encoded(out, req, source, EncodeSet::Path);
}

/// Writes a source's value encoded for `set`; a value already encoded for
/// the same kind of place is copied as is.
fn encoded(out: &mut BytesMut, req: &Request<'_>, source: &Source, set: EncodeSet) {
    match source {
        Source::Constant(v) => out.put_slice(v),
        Source::Input(i) => {
            let Some(v) = input(req, *i) else {
                return;
            };
            match (v.form, set) {
                (Form::QueryEncoded, EncodeSet::Query) | (Form::PathEncoded, EncodeSet::Path) => {
                    out.put_slice(v.bytes)
                }
                _ => percent::encode(&v.decoded(), set, out),
            }
        }
        Source::System(s) => percent::encode(system(req, s).as_bytes(), set, out),
    }
}

/// A source's plain-text value (for headers); `None` for an absent input.
fn text<'a>(req: &Request<'a>, source: &'a Source) -> Option<Cow<'a, [u8]>> {
    match source {
        Source::Constant(v) => Some(Cow::Borrowed(v)),
        Source::Input(i) => input(req, *i).map(|v| v.decoded()),
        Source::System(s) => Some(Cow::Borrowed(system(req, s).as_bytes())),
    }
}

fn input<'a>(req: &Request<'a>, i: u16) -> Option<Value<'a>> {
    req.inputs.get(i as usize, &req.api.params, req.head)
}

/// `(name, default)` of input `i` when the request took its default.
fn default_of<'a>(req: &Request<'a>, i: u16) -> Option<(&'a [u8], &'a [u8])> {
    if !req.inputs.is_default(i as usize) {
        return None;
    }
    let p = req.api.params.get(i as usize)?;
    Some((p.name.as_bytes(), p.default.as_deref()?))
}

/// A system parameter's value (§9.3); an authorizer key the authorizer
/// did not return is empty.
fn system<'a>(req: &Request<'a>, s: &'a SystemParam) -> &'a str {
    match s {
        SystemParam::SourceIp => std::str::from_utf8(req.source_ip).unwrap_or_default(),
        SystemParam::Stage => req.stage,
        SystemParam::ApiId => &req.api.id,
        SystemParam::AppId => req.identity.app_id(),
        SystemParam::RequestId => req.rid.as_str(),
        SystemParam::TenantId => req.identity.tenant_id(),
        SystemParam::UserId => req.identity.user_id(),
        SystemParam::AccountName => req.identity.account_name(),
        SystemParam::Frontend(k) => req.identity.context(false, k).unwrap_or_default(),
        SystemParam::Backend(k) => req.identity.context(true, k).unwrap_or_default(),
    }
}

/// Whether `name` is in a list of lower-case names.
fn listed(list: &[Box<[u8]>], name: &[u8]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}
