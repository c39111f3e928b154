//! The host name a `Host` value (or an SNI name) is compared by: one
//! normaliser for routing (§4.1–§4.2), the 421 rule and the redirect
//! table, so they can never disagree about which domain a request names.

/// Longest host name compared; longer names cannot be configured domains
/// (DNS names are at most 253 bytes).
pub const MAX_HOST: usize = 255;

/// `example.com:8080` → `example.com`; `[::1]:80` → `[::1]`.
pub fn strip_port(host: &[u8]) -> &[u8] {
    if host.first() == Some(&b'[') {
        return match host.iter().position(|&b| b == b']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.iter().rposition(|&b| b == b':') {
        Some(colon) => &host[..colon],
        None => host,
    }
}

/// The comparable name of `host` in `buf`: port removed, one trailing dot
/// removed (`a.example.` is `a.example`, as rustls does for SNI), ASCII
/// lower-cased. `None` when longer than [`MAX_HOST`].
pub fn name_key<'a>(host: &[u8], buf: &'a mut [u8; MAX_HOST]) -> Option<&'a [u8]> {
    let name = strip_port(host);
    let name = name.strip_suffix(b".").unwrap_or(name);
    let out = buf.get_mut(..name.len())?;
    out.copy_from_slice(name);
    out.make_ascii_lowercase();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_port_trailing_dot_and_case() {
        let mut buf = [0u8; MAX_HOST];
        assert_eq!(
            name_key(b"A.Example.TEST.:8443", &mut buf),
            Some(&b"a.example.test"[..])
        );
        assert_eq!(name_key(b"[::1]:80", &mut buf), Some(&b"[::1]"[..]));
        assert_eq!(name_key(b"", &mut buf), Some(&b""[..]));
        assert_eq!(name_key(&[b'a'; 300], &mut buf), None);
    }
}
