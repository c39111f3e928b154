//! The JSON inside a token: the JOSE header (RFC 7515 §4) and the claims
//! set (RFC 7519 §4), each read by a serde visitor that keeps only what
//! verification needs and skips the rest without allocating. Both must be
//! JSON objects; a name that matters appearing twice is refused (RFC 7519
//! §4 lets a parser reject duplicates), as is a `crit` header (no JWS
//! extension is understood, RFC 7515 §4.1.11).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::TokenIssuer;

/// A JSON string, borrowed from the decoded token unless it holds escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

/// What the JOSE header says.
pub(super) struct Header<'a> {
    /// `alg`.
    pub alg: Text<'a>,
    /// `kid`, if present.
    pub kid: Option<Text<'a>>,
}

/// What the claims set says, as far as verification goes.
#[derive(Default)]
pub(super) struct Claims<'a> {
    /// `exp`, seconds (NumericDate, maybe fractional).
    pub exp: Option<f64>,
    /// `nbf`, seconds.
    pub nbf: Option<f64>,
    /// `iss`.
    pub iss: Option<Text<'a>>,
    /// `aud` names one of the issuer's audiences.
    pub aud_matches: bool,
    /// The issuer's tenant claim.
    pub tenant: Option<Text<'a>>,
    /// The issuer's user claim.
    pub user: Option<Text<'a>>,
    /// The issuer's account claim.
    pub account: Option<Text<'a>>,
}

/// Reads a JOSE header.
pub(super) fn header(json: &[u8]) -> Result<Header<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let header = de.deserialize_map(HeaderVisitor)?;
    de.end()?;
    Ok(header)
}

/// Reads a claims set, with `issuer`'s claim names and audiences.
pub(super) fn claims<'a>(
    json: &'a [u8],
    issuer: &TokenIssuer,
) -> Result<Claims<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let claims = de.deserialize_map(ClaimsVisitor { issuer })?;
    de.end()?;
    Ok(claims)
}

/// Stores the first value of a name; a second is an error.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(format_args!("duplicate `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut alg, mut kid) = (None, None);
        while let Some(name) = map.next_key::<Text<'de>>()? {
            match &*name {
                "alg" => once(&mut alg, map.next_value()?, "alg")?,
                "kid" => once(&mut kid, map.next_value()?, "kid")?,
                "crit" => return Err(de::Error::custom("critical header parameters")),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let alg = alg.ok_or_else(|| de::Error::missing_field("alg"))?;
        Ok(Header { alg, kid })
    }
}

struct ClaimsVisitor<'i> {
    issuer: &'i TokenIssuer,
}

impl<'de> Visitor<'de> for ClaimsVisitor<'_> {
    type Value = Claims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims set object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let names = &self.issuer.claims;
        let mut c = Claims::default();
        let (mut aud_seen, mut ids_seen) = (false, [false; 3]);
        while let Some(name) = map.next_key::<Text<'de>>()? {
            match &*name {
                "exp" => once(&mut c.exp, map.next_value::<NumericDate>()?.0, "exp")?,
                "nbf" => once(&mut c.nbf, map.next_value::<NumericDate>()?.0, "nbf")?,
                "iss" => once(&mut c.iss, map.next_value()?, "iss")?,
                "aud" if !aud_seen => {
                    aud_seen = true;
                    c.aud_matches = map.next_value_seed(Audience(&self.issuer.audience))?;
                }
                "aud" => return Err(de::Error::custom("duplicate `aud`")),
                other => {
                    // One claim may serve several roles (tenant = account).
                    let roles = [
                        other == &*names.tenant,
                        other == &*names.user,
                        other == &*names.account,
                    ];
                    if !roles.contains(&true) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    if roles.iter().zip(&ids_seen).any(|(r, s)| *r && *s) {
                        return Err(de::Error::custom(format_args!("duplicate `{other}`")));
                    }
                    let value = map.next_value::<Identifier<'de>>()?.0;
                    let slots = [&mut c.tenant, &mut c.user, &mut c.account];
                    for ((slot, role), seen) in slots.into_iter().zip(roles).zip(&mut ids_seen) {
                        if role {
                            *slot = value.clone();
                            *seen = true;
                        }
                    }
                }
            }
        }
        Ok(c)
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds.
struct NumericDate(f64);

impl<'de> de::Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumericDateVisitor)
    }
}

struct NumericDateVisitor;

impl Visitor<'_> for NumericDateVisitor {
    type Value = NumericDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(NumericDate(v as f64))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(NumericDate(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() {
            Ok(NumericDate(v))
        } else {
            Err(E::custom("not a finite number"))
        }
    }
}

/// `aud`: a string or an array of strings (RFC 7519 §4.1.3); whether one
/// of them is a wanted audience.
struct Audience<'w>(&'w [Box<str>]);

impl<'de> DeserializeSeed<'de> for Audience<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Audience<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(self.0.iter().any(|w| **w == *v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(aud) = seq.next_element::<Text<'de>>()? {
            found |= self.0.iter().any(|w| **w == *aud);
        }
        Ok(found)
    }
}

/// A claim naming the caller: a non-empty string without control
/// characters, or an integer (as its decimal text). Any other JSON value
/// counts as absent. A control character, or a value of `.` or `..`,
/// refuses the token: the value may become a backend header or a backend
/// path segment (system parameters, behaviour.md §9.3).
struct Identifier<'a>(Option<Text<'a>>);

impl<'de> de::Deserialize<'de> for Identifier<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdentifierVisitor)
    }
}

struct IdentifierVisitor;

impl IdentifierVisitor {
    fn text<'a, E: de::Error>(v: Cow<'a, str>) -> Result<Identifier<'a>, E> {
        if v.bytes().any(|b| b < 0x20 || b == 0x7f) || v == "." || v == ".." {
            return Err(E::custom("unusable identity claim"));
        }
        Ok(Identifier((!v.is_empty()).then_some(Text(v))))
    }
}

impl<'de> Visitor<'de> for IdentifierVisitor {
    type Value = Identifier<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an integer")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Self::text(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::text(Cow::Owned(v.to_owned()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Identifier(Some(Text(Cow::Owned(v.to_string())))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Identifier(Some(Text(Cow::Owned(v.to_string())))))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Identifier(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Identifier(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Identifier(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Identifier(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Identifier(None))
    }
}
