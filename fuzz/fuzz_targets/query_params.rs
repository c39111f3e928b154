//! Query pairs lie inside the query and slice back to their key and value
//! (the value pointer included);
//! every key and value decodes without panicking; and for both escape sets
//! `decode(encode(x)) == x` with `encoded_len` equal to what was written.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tollgate::http::percent::{EncodeSet, decode, encode, encoded_len};
use tollgate::http::query::{key_is, pairs};

fuzz_target!(|data: &[u8]| {
    for pair in pairs(data) {
        let whole = &data[pair.range.clone()];
        assert!(!whole.is_empty() && !whole.contains(&b'&'));
        let rest = &whole[pair.key.len()..];
        assert_eq!(rest.strip_prefix(b"=").unwrap_or(rest), pair.value);
        assert_eq!(pair.has_value, rest.first() == Some(&b'='));
        assert!(whole.starts_with(pair.key) && decode(pair.value).len() <= pair.value.len());
        assert!(key_is(pair.key, &decode(pair.key)));
        // The value (even an empty one) points into the pair, at its end:
        // callers turn it back into an offset (regression: `?key`).
        let end = pair.value.as_ptr() as usize + pair.value.len();
        assert_eq!(end, data.as_ptr() as usize + pair.range.end);
    }
    for set in [EncodeSet::Path, EncodeSet::Query] {
        let mut out = BytesMut::new();
        encode(data, set, &mut out);
        assert_eq!(out.len(), encoded_len(data, set));
        assert_eq!(&decode(&out)[..], data);
    }
});
