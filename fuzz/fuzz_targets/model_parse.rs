#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pcz::fuzzing::model_parse(data));
