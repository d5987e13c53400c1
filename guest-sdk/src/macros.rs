/// Registers a typed handler `fn(E, Context) -> Result<O, Error>` (any
/// expression of a function or closure type with that signature) where
/// `E: DeserializeOwned + 'static` and `O: Serialize + 'static`, and generates the Portico SDK
/// ABI exports (version 2: `portico_abi_v2`, `portico_input`,
/// `portico_invoke`, `portico_panic_message`).
///
/// The event is decoded with `serde_json`; if that fails the invocation
/// fails with errorType `Runtime.UnmarshalError`. A handler that takes
/// `serde::de::IgnoredAny` accepts any event without reading it. Use once
/// per module.
///
/// ```no_run
/// use portico_guest::{handler, Context, Error};
/// use portico_guest::serde_json::Value;
///
/// fn echo(event: Value, _ctx: Context) -> Result<Value, Error> {
///     Ok(event)
/// }
/// handler!(echo);
/// ```
#[macro_export]
macro_rules! handler {
    ($handler:expr $(,)?) => {
        $crate::__portico_exports!(|event: &[u8], ctx: $crate::Context| {
            $crate::__private::call_typed($handler, event, ctx)
        });
    };
}

/// Registers a raw handler `fn(&[u8], Context) -> Result<Vec<u8>, Error>`
/// and generates the Portico SDK ABI exports. The returned bytes are passed
/// to the host as the result without any validation (the host rejects a
/// result that is not JSON). Use once per module.
///
/// ```no_run
/// use portico_guest::{raw_handler, Context, Error};
///
/// fn raw(event: &[u8], _ctx: Context) -> Result<Vec<u8>, Error> {
///     Ok(event.to_vec())
/// }
/// raw_handler!(raw);
/// ```
#[macro_export]
macro_rules! raw_handler {
    ($handler:expr $(,)?) => {
        $crate::__portico_exports!(|event: &[u8], ctx: $crate::Context| {
            $crate::__private::call_raw($handler, event, ctx)
        });
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __portico_exports {
    ($dispatch:expr) => {
        const _: () = {
            /// Marks the module as a Portico SDK (reactor) module of ABI
            /// version 2. Never called.
            #[unsafe(no_mangle)]
            pub extern "C" fn portico_abi_v2() {}

            /// The buffer the host writes each invocation's event and context
            /// into: at least `len` bytes, kept until the next call (0 on failure).
            #[unsafe(no_mangle)]
            pub extern "C" fn portico_input(len: i32) -> i32 {
                $crate::__private::input(len)
            }

            /// Runs the handler on the event and context lent in the input
            /// buffer; returns `(ptr << 32) | len` of the status-prefixed result.
            #[unsafe(no_mangle)]
            pub extern "C" fn portico_invoke(
                event_ptr: i32,
                event_len: i32,
                ctx_ptr: i32,
                ctx_len: i32,
            ) -> i64 {
                $crate::__private::invoke(event_ptr, event_len, ctx_ptr, ctx_len, $dispatch)
            }

            /// `(ptr << 32) | len` of the last panic message, 0 if none.
            #[unsafe(no_mangle)]
            pub extern "C" fn portico_panic_message() -> i64 {
                $crate::__private::panic_message()
            }
        };
    };
}
