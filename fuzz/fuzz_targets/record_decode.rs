//! Arbitrary bytes as a record: decoding never panics, and whatever
//! decodes renders as one clean text line and one JSON line that parses
//! and carries the message.
#![no_main]

use jamless::__fuzz;
use jamless::Format;
use jamless_fuzz::{check_json, check_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let items = __fuzz::decode(bytes);
    let view = __fuzz::view(bytes);
    assert_eq!(items.is_some(), view.is_some());
    let Some(view) = view else { return };
    let text = __fuzz::render(&Format::text(), bytes).expect("decoded, so it renders");
    check_text(&text);
    let pattern = Format::text_pattern(
        "{timestamp} {level} [{thread}] {target} {module} {file}:{line} {spans}{message}{fields}",
    )
    .expect("the pattern is valid");
    check_text(&__fuzz::render(&pattern, bytes).expect("decoded, so it renders"));
    let json = __fuzz::render(&Format::json(), bytes).expect("decoded, so it renders");
    check_json(&json, &view);
});
