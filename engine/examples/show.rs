//! Prints one vendor's default (reference) and full sample configs: `cargo run -p engine --example show -- fanvil`.
fn main() {
    let v: engine::Vendor = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "yealink".into())
        .parse()
        .expect("a vendor name");
    println!(
        "{}",
        engine::default_config(&engine::reference_profile(v)).expect("renders")
    );
    println!("=====");
    println!(
        "{}",
        engine::default_config(&engine::sample_profile(v)).expect("renders")
    );
}
