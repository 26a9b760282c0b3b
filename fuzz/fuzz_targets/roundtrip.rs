//! Round trips: whatever parses as a message emits and parses back to the same message, with
//! the default settings, with a 576-byte limit (using option overload), without overload, and
//! padded to the BOOTP minimum. Emission never writes outside its length.
#![no_main]

use charrua_wire::{BOOTP_MIN_LEN, EmitError, EmitOptions, Message, MessageView, OptionCode};
use libfuzzer_sys::fuzz_target;

/// Emits with `settings`, checks the length promises, and parses the result back.
fn emit_and_check(message: &Message, settings: &EmitOptions) -> Result<Vec<u8>, EmitError> {
    let len = message.emitted_len(settings)?;
    // One byte short fails cleanly and writes nothing.
    if len > 0 {
        let mut short = vec![0xa5u8; len - 1];
        assert_eq!(
            message.emit(&mut short, settings),
            Err(EmitError::BufferTooSmall {
                needed: len,
                available: len - 1
            })
        );
        assert!(
            short.iter().all(|&b| b == 0xa5),
            "a failed emit wrote bytes"
        );
    }
    // A larger buffer: exactly `len` bytes are written, the rest is untouched.
    let mut buf = vec![0xa5u8; len + 16];
    let written = message
        .emit(&mut buf, settings)
        .expect("emit after emitted_len");
    assert_eq!(written, len);
    assert!(
        buf[len..].iter().all(|&b| b == 0xa5),
        "emit wrote past its length"
    );
    buf.truncate(len);
    assert_eq!(message.to_bytes(settings).as_ref(), Ok(&buf));

    let back = Message::parse(&buf).unwrap_or_else(|e| panic!("emitted bytes do not parse: {e}"));
    assert_eq!(&back, message, "round trip changed the message");
    Ok(buf)
}

fn has_overload(bytes: &[u8]) -> bool {
    let view = MessageView::new(bytes).expect("emitted bytes have a header");
    view.raw_options()
        .flatten()
        .any(|o| o.code == OptionCode::OVERLOAD)
}

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::parse(data) else {
        return;
    };

    // Default settings: no limit, so this never fails.
    let plain = emit_and_check(&message, &EmitOptions::default())
        .unwrap_or_else(|e| panic!("default emission failed: {e}"));
    assert!(!has_overload(&plain), "overload used without a limit");

    // A 576-byte limit with overload.
    let limited = EmitOptions {
        max_len: Some(576),
        ..EmitOptions::default()
    };
    match emit_and_check(&message, &limited) {
        Ok(bytes) => {
            assert!(bytes.len() <= 576, "{} bytes over a 576 limit", bytes.len());
            if plain.len() <= 576 {
                assert_eq!(bytes, plain, "overload used where the options fit");
            }
        }
        Err(EmitError::TooLarge { limit, .. }) => {
            assert_eq!(limit, 576);
            assert!(
                plain.len() > 576,
                "fits in {} bytes yet refused at 576",
                plain.len()
            );
        }
        Err(e) => panic!("unexpected error at 576: {e}"),
    }

    // The same limit without overload: fits exactly when the plain emission fits.
    let no_overload = EmitOptions {
        max_len: Some(576),
        overload: false,
        min_len: 0,
    };
    match emit_and_check(&message, &no_overload) {
        Ok(bytes) => {
            assert_eq!(bytes, plain, "without overload the layout is the plain one");
            assert!(!has_overload(&bytes));
        }
        Err(EmitError::TooLarge { .. }) => assert!(plain.len() > 576),
        Err(e) => panic!("unexpected error without overload: {e}"),
    }

    // Padded for old BOOTP relays.
    let padded = EmitOptions {
        min_len: BOOTP_MIN_LEN,
        ..EmitOptions::default()
    };
    let bytes = emit_and_check(&message, &padded).unwrap_or_else(|e| panic!("padded: {e}"));
    assert_eq!(bytes.len(), plain.len().max(BOOTP_MIN_LEN));
});
