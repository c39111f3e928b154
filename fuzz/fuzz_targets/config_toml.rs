//! Configuration text: parse → validate → compile never panics, and every
//! error it reports names a key path or a line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errs) = tollgate::control::load(text) {
        assert!(!errs.is_empty());
        for e in &errs {
            let _ = e.to_string();
        }
    }
});
