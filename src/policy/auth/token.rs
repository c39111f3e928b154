//! Token authentication (behaviour.md §11.6, the self-hosted form of IAM
//! authentication): a JWT (RFC 7519) in `Authorization: Bearer <jwt>` or
//! `X-Auth-Token: <jwt>`, signed with HS256, RS256 or ES256 (RFC 7518) by
//! a key of the API's [`TokenIssuer`], with `exp` required and `nbf`,
//! `iss` and `aud` checked. Its claims name the caller ([`Caller`]): the
//! tenant, the user and the account that account access control (§15)
//! and user throttling (§13) look at.
//!
//! Compiled once: HMAC keys and parsed public keys live in the snapshot,
//! so a request does no key parsing and no I/O. Per request the work is a
//! base64url decode into the worker's scratch buffer, a scan of two small
//! JSON objects that keeps only the claims it needs (borrowed where they
//! have no escapes), and one signature check by aws-lc-rs (the library
//! rustls already links).
//!
//! Not here: reading keys and JWKS files (`control`), the account
//! policy itself ([`crate::policy::acl::AccountPolicy`]).

mod claims;

use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::BytesMut;

use super::signature::HeaderValue;
use crate::error::{GatewayError, TokenFault};
use crate::http::RequestHead;

pub use claims::Text;

/// Leeway on `exp` and `nbf` when the issuer names none, in seconds
/// (clock skew between the token issuer and the gateway).
pub const DEFAULT_LEEWAY_S: u32 = 60;

/// Largest configurable leeway, in seconds: beyond ten minutes a leeway
/// stops being clock skew and becomes a longer token lifetime.
pub const MAX_LEEWAY_S: u32 = 600;

/// Shortest HS256 secret, in bytes (RFC 7518 §3.2: a key at least as long
/// as the hash output).
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// A JWS algorithm the gateway verifies (RFC 7518 §3.1). `none` and every
/// other algorithm are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC with SHA-256, a shared secret.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048- to 8192-bit keys.
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// The algorithm named `name` (`"HS256"`, `"RS256"`, `"ES256"`; exact
    /// case, as JWS requires).
    pub fn parse(name: &str) -> Option<Alg> {
        match name {
            "HS256" => Some(Alg::Hs256),
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    /// The JWS name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// A verification key, ready to use (the HMAC key holds its precomputed
/// inner and outer hash states, 1.2 KB: boxed).
enum Check {
    Hmac(Box<hmac::Key>),
    Public(Alg, ParsedPublicKey),
}

/// Why a public key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// HS256 verifies with a secret.
    #[error("HS256 takes a secret, not a public key")]
    NotPublic,
    /// Not a key of the algorithm's type and size.
    #[error("{0}")]
    Rejected(#[from] KeyRejected),
}

/// One key of an issuer: its `kid` and what verifies with it.
pub struct TokenKey {
    id: Option<Box<str>>,
    check: Check,
}

impl std::fmt::Debug for TokenKey {
    /// The id and algorithm only: never key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("id", &self.id)
            .field("alg", &self.alg())
            .finish()
    }
}

impl TokenKey {
    /// An HS256 key with this secret.
    pub fn hs256(id: Option<&str>, secret: &[u8]) -> TokenKey {
        TokenKey {
            id: id.map(Into::into),
            check: Check::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, secret))),
        }
    }

    /// An RS256 or ES256 public key from DER: a SubjectPublicKeyInfo, or
    /// for RS256 a PKCS#1 `RSAPublicKey`, for ES256 an uncompressed P-256
    /// point. Fails for HS256 and for a key of another type or size.
    pub fn public(id: Option<&str>, alg: Alg, der: &[u8]) -> Result<TokenKey, KeyError> {
        let key = match alg {
            Alg::Rs256 => ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)?,
            Alg::Es256 => ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, der)?,
            Alg::Hs256 => return Err(KeyError::NotPublic),
        };
        Ok(TokenKey {
            id: id.map(Into::into),
            check: Check::Public(alg, key),
        })
    }

    /// An RS256 key from its modulus and exponent (big-endian; a JWK's
    /// `n` and `e`).
    pub fn rsa(id: Option<&str>, n: &[u8], e: &[u8]) -> Result<TokenKey, KeyError> {
        let key =
            RsaPublicKeyComponents { n, e }.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)?;
        Ok(TokenKey {
            id: id.map(Into::into),
            check: Check::Public(Alg::Rs256, key),
        })
    }

    /// The key id (`kid`), if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        match &self.check {
            Check::Hmac(_) => Alg::Hs256,
            Check::Public(alg, _) => *alg,
        }
    }

    /// Whether `signature` signs `message` (constant time for HMAC).
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.check {
            Check::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Check::Public(_, key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// Claim names that identify the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// The tenant (account ID) claim, `tenant_id` by default.
    pub tenant: Box<str>,
    /// The user claim, `sub` by default.
    pub user: Box<str>,
    /// The account name claim, `account_name` by default.
    pub account: Box<str>,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            tenant: "tenant_id".into(),
            user: "sub".into(),
            account: "account_name".into(),
        }
    }
}

/// A compiled `[[token_issuer]]`: whose tokens an API accepts.
#[derive(Debug)]
pub struct TokenIssuer {
    /// Config name (for logs).
    pub name: Box<str>,
    /// Required `iss`, when set.
    pub issuer: Option<Box<str>>,
    /// Accepted audiences; when not empty, `aud` must hold one of them.
    pub audience: Vec<Box<str>>,
    /// Leeway on `exp` and `nbf`, seconds.
    pub leeway_s: u32,
    /// Which claims name the caller.
    pub claims: ClaimNames,
    /// Verification keys, inline ones first, then the JWKS file's.
    pub keys: Vec<TokenKey>,
}

/// Who a verified token names (behaviour.md §11.6). Claims that are
/// absent, empty or not a string or integer stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The tenant (account ID) claim.
    pub tenant_id: Option<Box<str>>,
    /// The user claim.
    pub user_id: Option<Box<str>>,
    /// The account name claim, else the tenant ID.
    pub account_name: Option<Box<str>>,
}

/// Authenticates `head` against `issuer` at `now_unix`; the caller on
/// success. `scratch` is reused for decoding.
pub fn authenticate(
    issuer: &TokenIssuer,
    head: &RequestHead,
    now_unix: i64,
    scratch: &mut BytesMut,
) -> Result<Caller, GatewayError> {
    let token = bearer(|name| HeaderValue::of(head.values(name)))?;
    verify(issuer, token, now_unix, scratch)
}

/// The token a request carries: `Authorization: Bearer <jwt>` (scheme in
/// any case) or `X-Auth-Token: <jwt>`. Both at once, or either header
/// repeated, is refused (RFC 6750 §2: one method per request).
pub fn bearer<'h>(headers: impl Fn(&[u8]) -> HeaderValue<'h>) -> Result<&'h [u8], GatewayError> {
    let malformed = GatewayError::TokenAuth(TokenFault::Malformed);
    let authorization = match headers(b"authorization") {
        HeaderValue::One(v) => strip_bearer(v),
        HeaderValue::Missing => None,
        HeaderValue::Repeated => return Err(malformed),
    };
    let x_auth = match headers(b"x-auth-token") {
        HeaderValue::One(v) => Some(v.trim_ascii()),
        HeaderValue::Missing => None,
        HeaderValue::Repeated => return Err(malformed),
    };
    match (authorization, x_auth) {
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(GatewayError::TokenAuth(TokenFault::Missing)),
        (Some(_), Some(_)) => Err(malformed),
    }
}

/// The credentials of a `Bearer` authorization value; `None` for another
/// scheme.
fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let scheme = value.get(..6)?;
    let rest = value.get(6..)?;
    let spaced = rest.first().is_some_and(|&b| b == b' ' || b == b'\t');
    (scheme.eq_ignore_ascii_case(b"bearer") && spaced).then(|| rest.trim_ascii())
}

/// Verifies a compact JWS `token` as of `now_unix` (RFC 7515 §7.1, RFC
/// 7519 §7.2): three base64url parts, a header naming a supported `alg`
/// (and a `kid` if it names one) of a key of `issuer`, a valid signature,
/// then the claims. `scratch` holds the decoded parts.
///
/// Order of checks: form, algorithm and key, signature, `iss`, `aud`,
/// `nbf`, `exp`; the first failure is the answer. An expired token is
/// [`GatewayError::TokenExpired`]; every other failure is
/// [`GatewayError::TokenAuth`].
pub fn verify(
    issuer: &TokenIssuer,
    token: &[u8],
    now_unix: i64,
    scratch: &mut BytesMut,
) -> Result<Caller, GatewayError> {
    let fail = GatewayError::TokenAuth;
    let parts = Parts::split(token).ok_or(fail(TokenFault::Malformed))?;
    let decoded = parts.decode(scratch).ok_or(fail(TokenFault::Malformed))?;
    let header = claims::header(decoded.header).map_err(|_| fail(TokenFault::Malformed))?;
    let alg = Alg::parse(&header.alg).ok_or(fail(TokenFault::Algorithm))?;
    let kid = header.kid.as_deref();
    let mut candidates = issuer
        .keys
        .iter()
        .filter(|k| k.alg() == alg && kid.is_none_or(|kid| k.id() == Some(kid)))
        .peekable();
    if candidates.peek().is_none() {
        let fault = match kid {
            Some(_) => TokenFault::UnknownKey,
            None => TokenFault::Algorithm,
        };
        return Err(fail(fault));
    }
    if !candidates.any(|k| k.verifies(parts.signed, decoded.signature)) {
        return Err(fail(TokenFault::BadSignature));
    }
    let c = claims::claims(decoded.payload, issuer).map_err(|_| fail(TokenFault::Malformed))?;
    debug_assert!(issuer.leeway_s <= MAX_LEEWAY_S);
    if let Some(want) = &issuer.issuer
        && c.iss.as_deref() != Some(&**want)
    {
        return Err(fail(TokenFault::WrongIssuer));
    }
    if !issuer.audience.is_empty() && !c.aud_matches {
        return Err(fail(TokenFault::WrongAudience));
    }
    let now = now_unix as f64;
    let leeway = f64::from(issuer.leeway_s);
    if c.nbf.is_some_and(|nbf| now + leeway < nbf) {
        return Err(fail(TokenFault::NotYetValid));
    }
    match c.exp {
        None => return Err(fail(TokenFault::NoExpiry)),
        // RFC 7519 §4.1.4: valid only before `exp` (plus the leeway).
        Some(exp) if now >= exp + leeway => return Err(GatewayError::TokenExpired),
        Some(_) => {}
    }
    let owned = |t: Option<Text<'_>>| t.map(|t| Box::<str>::from(&*t));
    let tenant_id = owned(c.tenant);
    let account_name = owned(c.account).or_else(|| tenant_id.clone());
    Ok(Caller {
        user_id: owned(c.user),
        tenant_id,
        account_name,
    })
}

/// The three parts of a compact JWS, still encoded.
struct Parts<'t> {
    header: &'t [u8],
    payload: &'t [u8],
    signature: &'t [u8],
    /// `header.payload`: what the signature covers.
    signed: &'t [u8],
}

/// The parts decoded, borrowed from the scratch buffer.
struct Decoded<'s> {
    header: &'s [u8],
    payload: &'s [u8],
    signature: &'s [u8],
}

impl<'t> Parts<'t> {
    /// Exactly three non-empty parts (no supported algorithm has an
    /// empty signature).
    fn split(token: &'t [u8]) -> Option<Parts<'t>> {
        let mut it = token.split(|&b| b == b'.');
        let (header, payload, signature) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() || header.is_empty() || payload.is_empty() || signature.is_empty() {
            return None;
        }
        let signed = token.get(..header.len() + 1 + payload.len())?;
        debug_assert_eq!(signed.last(), payload.last());
        Some(Parts {
            header,
            payload,
            signature,
            signed,
        })
    }

    /// Decodes the three parts (base64url, no padding, canonical) into
    /// `scratch`.
    fn decode<'s>(&self, scratch: &'s mut BytesMut) -> Option<Decoded<'s>> {
        let est = |p: &[u8]| base64::decoded_len_estimate(p.len());
        let (eh, ep, es) = (est(self.header), est(self.payload), est(self.signature));
        scratch.clear();
        scratch.resize(eh + ep + es, 0);
        let (h, rest) = scratch.split_at_mut(eh);
        let (p, s) = rest.split_at_mut(ep);
        let nh = URL_SAFE_NO_PAD.decode_slice(self.header, h).ok()?;
        let np = URL_SAFE_NO_PAD.decode_slice(self.payload, p).ok()?;
        let ns = URL_SAFE_NO_PAD.decode_slice(self.signature, s).ok()?;
        debug_assert!(nh <= eh && np <= ep && ns <= es);
        Some(Decoded {
            header: h.get(..nh)?,
            payload: p.get(..np)?,
            signature: s.get(..ns)?,
        })
    }
}

#[cfg(test)]
mod tests;
