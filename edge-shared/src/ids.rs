//! Randomness from the platform's CSPRNG (`crypto.getRandomValues`): ids, tokens, jitter.

use worker::Result;

/// `N` random bytes from the platform's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    use wasm_bindgen::JsCast;
    let crypto = worker::js_sys::Reflect::get(&worker::js_sys::global(), &"crypto".into())?;
    let f: worker::js_sys::Function =
        worker::js_sys::Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    let arr = worker::js_sys::Uint8Array::new_with_length(N as u32);
    f.call1(&crypto, &arr)?;
    let mut out = [0u8; N];
    arr.copy_to(&mut out);
    Ok(out)
}

/// A new random id (128 bits, hex) after `prefix` and a dash: `phone-3f…`.
pub fn new_id(prefix: &str) -> Result<String> {
    Ok(format!(
        "{prefix}-{}",
        engine::first_access_token(random_bytes::<16>()?)
    ))
}
