//! The path normaliser never panics, and its output is a fixed point: it
//! holds no `//` (when merging), no `.`/`..` segment, no backslash (when
//! refused), no escape of an unreserved byte and no lower-case hex, and
//! normalising it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::http::normalize::{PathAction, PathRules, normalize};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, path)) = data.split_first() else {
        return;
    };
    let pick = |bit: u8| match flags & bit {
        0 => PathAction::Reject,
        _ => PathAction::Keep,
    };
    let rules = PathRules {
        merge_slashes: flags & 1 == 0,
        backslash: pick(2),
        escaped_slash: pick(4),
        semicolon: pick(8),
    };
    let Ok(out) = normalize(path, &rules) else {
        return;
    };
    let normal = out.as_deref().unwrap_or(path);
    assert_eq!(normalize(normal, &rules), Ok(None), "not idempotent");
    if rules.merge_slashes {
        assert!(!normal.windows(2).any(|w| w == b"//"));
    }
    if rules.backslash == PathAction::Reject {
        assert!(!normal.contains(&b'\\'));
    }
    for segment in normal.split(|&b| b == b'/') {
        assert!(segment != b"." && segment != b"..");
    }
    for (i, _) in normal.iter().enumerate().filter(|&(_, &b)| b == b'%') {
        let hex = &normal[i + 1..i + 3];
        assert!(hex.iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        let byte = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
        assert!(!(byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)));
    }
});
