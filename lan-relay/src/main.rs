//! `lan-relay`: the on-site provisioning daemon (see the library's docs).

fn main() {
    println!("lan-relay: not yet runnable");
}
