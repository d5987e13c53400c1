//! The `raw_handler!` macro accepts closures too.
use portico_guest::{Context, Error, raw_handler};

raw_handler!(|event: &[u8], _ctx: Context| -> Result<Vec<u8>, Error> { Ok(event.to_vec()) });

unsafe extern "C" {
    fn portico_input(len: i32) -> i32;
    fn portico_invoke(event_ptr: i32, event_len: i32, ctx_ptr: i32, ctx_len: i32) -> i64;
}

#[test]
fn exports_link() {
    unsafe {
        assert_eq!(portico_input(-5), 0);
        // empty event and context: result is "\0" (status ok, empty raw output)
        let packed = portico_invoke(0, 0, 0, 0);
        assert_eq!(packed & 0xffff_ffff, 1);
    }
}
