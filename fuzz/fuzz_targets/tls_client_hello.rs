//! Arbitrary client bytes, in arbitrary pieces, into the termination
//! stage's ClientHello reader: it must answer More, Ready or Refused and
//! never panic; a Ready hello's SNI goes through the table lookup.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls::server::Acceptor;
use tollgate::tls::{Hello, SniTable, offer};

fuzz_target!(|data: &[u8]| {
    let Some((&step, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1) * 16;
    let table = SniTable::new(1);
    let mut acceptor = Acceptor::default();
    for piece in bytes.chunks(step) {
        match offer(&mut acceptor, piece) {
            Hello::More => {}
            Hello::Ready(accepted) => {
                let sni = accepted.client_hello().server_name().map(str::to_owned);
                assert!(table.pick(0, sni.as_deref()).is_none());
                return;
            }
            Hello::Refused { .. } => return,
        }
    }
});
