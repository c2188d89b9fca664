//! The per-call context: who called, how, and the server's environment
//! (ABI.md 3.3). Every getter asks the host when called and returns None
//! when the value is absent, for example `user_id` on a server-to-server
//! call, or a key that is not available in the current phase.

use crate::codec;
use crate::hostcall::read_buffer;
use crate::sys::{self, ctx};

/// Context reads the current call's context. Handlers get one by
/// reference; [`Registrar::context`](crate::Registrar::context) gives one in
/// init, where only `env`, `node`, `version` and the plugin keys exist.
#[derive(Debug)]
pub struct Context {
    _private: (),
}

impl Context {
    pub(crate) const fn new() -> Context {
        Context { _private: () }
    }

    /// get_bytes returns the raw value of context key `key`, as ctx_get gives it.
    pub fn get_bytes(&self, key: &str) -> Option<Vec<u8>> {
        // SAFETY: key is borrowed for the call; ctx_get writes at most cap bytes at ptr.
        read_buffer(|ptr, cap| unsafe { sys::ctx_get(key.as_ptr(), key.len(), ptr, cap) }).ok()
    }

    /// get returns context key `key` as text (invalid UTF-8 is replaced).
    pub fn get(&self, key: &str) -> Option<String> {
        self.get_bytes(key).map(|b| match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    fn get_map(&self, key: &str) -> Option<Vec<(String, String)>> {
        self.get_bytes(key).and_then(|b| codec::decode_map(&b).ok())
    }

    fn get_entry(&self, prefix: &str, name: &str) -> Option<String> {
        self.get(&format!("{}{}", prefix, name))
    }

    /// user_id returns the caller's user ID; None for a server-to-server call.
    pub fn user_id(&self) -> Option<String> {
        self.get(ctx::USER_ID)
    }

    /// username returns the caller's username; None without a user.
    pub fn username(&self) -> Option<String> {
        self.get(ctx::USERNAME)
    }

    /// session_expiry returns when the caller's session expires, in Unix seconds.
    pub fn session_expiry(&self) -> Option<i64> {
        self.get(ctx::USER_SESSION_EXP).and_then(|s| s.parse().ok())
    }

    /// vars returns the session variables, sorted by name; empty without a user.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.get_map(ctx::VARS).unwrap_or_default()
    }

    /// var returns one session variable.
    pub fn var(&self, name: &str) -> Option<String> {
        self.get_entry(ctx::VAR_PREFIX, name)
    }

    /// headers returns the request headers sorted by canonical name
    /// (`Content-Type`), once per value. `Authorization` is included only
    /// in custom HTTP handlers registered without a session requirement.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.get_map(ctx::HEADERS).unwrap_or_default()
    }

    /// header returns the first value of a header; `name` is case-insensitive.
    pub fn header(&self, name: &str) -> Option<String> {
        self.get_entry(ctx::HEADER_PREFIX, name)
    }

    /// query_params returns the query parameters (without `http_key`),
    /// sorted by name, once per value.
    pub fn query_params(&self) -> Vec<(String, String)> {
        self.get_map(ctx::QUERY_PARAMS).unwrap_or_default()
    }

    /// query returns the first value of a query parameter; `name` is case-sensitive.
    pub fn query(&self, name: &str) -> Option<String> {
        self.get_entry(ctx::QUERY_PREFIX, name)
    }

    /// env returns the plugin environment from the server's configuration.
    pub fn env(&self) -> Vec<(String, String)> {
        self.get_map(ctx::ENV).unwrap_or_default()
    }

    /// env_var returns one value of the plugin environment.
    pub fn env_var(&self, name: &str) -> Option<String> {
        self.get_entry(ctx::ENV_PREFIX, name)
    }

    /// execution_mode returns how the plugin was invoked: `"rpc"` for an RPC,
    /// `"http"` for a custom HTTP handler.
    pub fn execution_mode(&self) -> Option<String> {
        self.get(ctx::EXECUTION_MODE)
    }

    /// node returns the server's node name.
    pub fn node(&self) -> Option<String> {
        self.get(ctx::NODE)
    }

    /// server_version returns the server's version.
    pub fn server_version(&self) -> Option<String> {
        self.get(ctx::VERSION)
    }

    /// client_ip returns the client's IP address.
    pub fn client_ip(&self) -> Option<String> {
        self.get(ctx::CLIENT_IP)
    }

    /// client_port returns the client's port.
    pub fn client_port(&self) -> Option<u16> {
        self.get(ctx::CLIENT_PORT).and_then(|s| s.parse().ok())
    }

    /// trace_id returns the request's trace id.
    pub fn trace_id(&self) -> Option<String> {
        self.get(ctx::TRACE_ID)
    }

    /// rpc_id returns the lowercased id of the RPC being called; None in
    /// an HTTP handler.
    pub fn rpc_id(&self) -> Option<String> {
        self.get(ctx::RPC_ID)
    }

    /// http_method returns an HTTP handler's request method, such as `"GET"`.
    pub fn http_method(&self) -> Option<String> {
        self.get(ctx::HTTP_METHOD)
    }

    /// http_path returns an HTTP handler's request path, as received (decoded).
    pub fn http_path(&self) -> Option<String> {
        self.get(ctx::HTTP_PATH)
    }

    /// http_route returns the pattern the HTTP handler registered, such as `"/items/:id"`.
    pub fn http_route(&self) -> Option<String> {
        self.get(ctx::HTTP_ROUTE)
    }

    /// route_param returns the value of route parameter `:name` or `*name`.
    pub fn route_param(&self, name: &str) -> Option<String> {
        self.get_entry(ctx::ROUTE_PREFIX, name)
    }

    /// plugin_name returns this plugin's name: its file name without `.wasm`.
    pub fn plugin_name(&self) -> Option<String> {
        self.get(ctx::PLUGIN_NAME)
    }

    /// plugin_version returns the first 12 hex digits of the SHA-256 of this plugin's `.wasm`.
    pub fn plugin_version(&self) -> Option<String> {
        self.get(ctx::PLUGIN_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::native;

    #[test]
    fn reads_values_maps_and_absent_keys() {
        let long = "u".repeat(1000); // longer than the first probe buffer
        let headers = codec::encode_map(&[("Accept", "a"), ("Accept", "b")]);
        native::with(|f| {
            f.ctx = vec![
                ("user_id".into(), long.clone().into_bytes()),
                ("username".into(), Vec::new()),
                ("user_session_exp".into(), b"1700000000".to_vec()),
                ("client_port".into(), b"8080".to_vec()),
                ("headers".into(), headers),
                ("header.Accept".into(), b"a".to_vec()),
            ]
        });
        let c = Context::new();
        assert_eq!(c.user_id(), Some(long));
        assert_eq!(c.username(), Some(String::new()));
        assert_eq!(c.session_expiry(), Some(1_700_000_000));
        assert_eq!(c.client_port(), Some(8080));
        assert_eq!(c.header("Accept").as_deref(), Some("a"));
        assert_eq!(
            c.headers(),
            vec![("Accept".into(), "a".into()), ("Accept".into(), "b".into())]
        );
        assert_eq!(c.vars(), vec![]);
        assert_eq!(c.node(), None);
        assert_eq!(c.var("x"), None);
    }
}
