//! A bearer token as both authenticated doors read it before any key is looked up: the
//! `Authorization` header, the JOSE header (`alg`, `typ`, `kid`) and the unverified claims.
//!
//! An input starting with `{` is `header JSON \n claims JSON`, sent base64url-encoded as a
//! signed-looking token so the fuzzer reaches the JSON decoders; anything else is sent as the
//! raw token text.
#![no_main]

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = if data.first() == Some(&b'{') {
        let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
        let (header, claims) = data.split_at(split);
        let claims = claims.get(1..).unwrap_or_default();
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
        .into_bytes()
    } else {
        data.to_vec()
    };
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(&token);
    let Ok(value) = HeaderValue::from_bytes(&value) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    let _ = cramp_cds::auth::precheck_bearer(&headers);
});
