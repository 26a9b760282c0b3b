//! Bare messages: the checked view, the raw option iterator and the owned decode. Nothing may
//! panic, the view and the owned form must agree, and every error must point inside the input.
#![no_main]

use std::fmt::Write as _;

use charrua_wire::{Error, Message, MessageView, OptionCode};
use libfuzzer_sys::fuzz_target;

fn check_error(error: &Error, len: usize, out: &mut String) {
    assert!(error.offset() <= len, "{error:?} points past {len} bytes");
    let _ = write!(out, "{error} {error:?} {}", error.is_not_dhcp());
}

fuzz_target!(|data: &[u8]| {
    let mut out = String::new();
    let parsed = Message::parse(data);
    let view = match MessageView::new(data) {
        Ok(view) => view,
        Err(error) => {
            check_error(&error, data.len(), &mut out);
            assert_eq!(parsed, Err(error), "parse and view disagree on the header");
            return;
        }
    };

    // Every accessor reads in bounds.
    let _ = write!(
        out,
        "{} {} {} {} {} {} {} {} {} {} {}",
        view.op(),
        view.htype(),
        view.hops(),
        view.xid(),
        view.secs(),
        view.flags(),
        view.ciaddr(),
        view.yiaddr(),
        view.siaddr(),
        view.giaddr(),
        view.message_type().map(|t| t.0).unwrap_or(0),
    );
    assert_eq!(view.chaddr().len(), usize::from(view.hlen()));
    assert_eq!(view.sname_field().len(), 64);
    assert_eq!(view.file_field().len(), 128);
    assert_eq!(view.options_field().len(), data.len() - 240);
    assert_eq!(view.as_bytes(), data);

    // Raw options: each instance lies inside the message, right after its code and length;
    // pad, end and overload never come out; the iterator stops after its first error.
    let mut raw_error = None;
    let mut count = 0usize;
    for raw in view.raw_options() {
        assert!(raw_error.is_none(), "raw options go on after an error");
        match raw {
            Ok(raw) => {
                count += 1;
                assert!(count <= data.len(), "more instances than bytes");
                assert!(!matches!(raw.code.0, 0 | 255));
                let start = raw.offset + 2;
                assert!(start + raw.data.len() <= data.len());
                assert_eq!(data[raw.offset], raw.code.0);
                assert_eq!(usize::from(data[raw.offset + 1]), raw.data.len());
                assert_eq!(&data[start..start + raw.data.len()], raw.data);
                let _ = write!(out, "{:?}", raw.code);
            }
            Err(error) => {
                check_error(&error, data.len(), &mut out);
                raw_error = Some(error);
            }
        }
    }

    match parsed {
        Ok(message) => {
            assert!(
                raw_error.is_none(),
                "parse accepted what the raw iterator refused"
            );
            assert_eq!(Message::from_view(view).as_ref(), Ok(&message));
            // The view's shortcut agrees with the decoded message.
            assert_eq!(view.message_type(), message.message_type());
            assert_eq!(message.chaddr.as_bytes(), view.chaddr());
            assert!(message.sname.len() <= 64 && message.file.len() <= 128);
            for option in &message.options {
                assert!(!matches!(option.code(), OptionCode::PAD | OptionCode::END));
                assert_ne!(option.code(), OptionCode::OVERLOAD);
                let _ = write!(out, "{option} {option:?} {}", option.payload().len());
            }
            let _ = write!(out, "{message}{message:#}{message:?}");
        }
        Err(error) => {
            check_error(&error, data.len(), &mut out);
            if let Some(raw_error) = raw_error {
                assert_eq!(
                    error, raw_error,
                    "parse reports another error than the iterator"
                );
            }
        }
    }
});
