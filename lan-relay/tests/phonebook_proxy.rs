//! Attack: the relay's host has `HTTP_PROXY` set (common where the relay reaches the edge
//! through a proxy). A phonebook source on a LAN host must still be fetched from that host
//! directly: through the proxy, the LAN URL would leave the LAN, and whatever the proxy
//! answers (it resolves the name itself) would be read as the LAN directory. Its own test
//! binary, since it sets the process's environment.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A one-connection-at-a-time HTTP server answering `csv` to everything; counts requests.
fn serve(csv: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let addr = listener.local_addr().expect("its address").to_string();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{csv}",
                csv.len()
            );
        }
    });
    (addr, hits)
}

#[test]
fn a_lan_source_is_fetched_directly_whatever_the_proxy_settings() {
    let (directory, _) = serve("name,number\nLAN directory,201\n");
    let (proxy, proxied) = serve("name,number\nThe proxy's answer,900\n");
    for var in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "http_proxy"] {
        std::env::set_var(var, format!("http://{proxy}"));
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let got = lan_relay::phonebook::fetch(&format!("http://{directory}/pb.csv")).expect("fetched");
    assert_eq!(got.entries.len(), 1);
    assert_eq!(got.entries[0].name, "LAN directory");
    assert_eq!(proxied.load(Ordering::SeqCst), 0, "the proxy was asked");
}
