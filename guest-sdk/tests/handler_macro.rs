//! The `handler!` macro expands and its exports link on the host target too.
use portico_guest::serde_json::{Value, json};
use portico_guest::{Context, Error, handler};

fn hello(event: Value, ctx: Context) -> Result<Value, Error> {
    Ok(json!({"event": event, "name": ctx.function_name}))
}

handler!(hello);

unsafe extern "C" {
    fn portico_abi_v2();
    fn portico_input(len: i32) -> i32;
    fn portico_panic_message() -> i64;
}

#[test]
fn exports_link() {
    unsafe {
        portico_abi_v2();
        assert_eq!(portico_input(-1), 0);
        assert_eq!(portico_panic_message(), 0);
    }
}
