//! TFTP: any datagram parses to a packet or a typed error, never a panic; a parsed request
//! encodes back to itself; negotiation stays within the RFCs' ranges and the server's limits
//! whatever the options; the netascii length matches the encoding.
#![no_main]
use lan_relay::tftp::codec::{self, Limits, NetasciiEncoder, Opcode, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first four bytes pick the limits and the file size; the rest is the datagram.
    let (head, datagram) = data.split_at(data.len().min(4));
    let mut h = [0u8; 4];
    h[..head.len()].copy_from_slice(head);
    let limits = Limits {
        max_blksize: u16::from_be_bytes([h[0], h[1]]),
        max_windowsize: u16::from(h[2]),
    };
    let size = (h[3] % 2 == 0).then_some(u64::from(h[3]) * 1000);

    let _ = codec::opcode(datagram);
    match codec::parse(datagram) {
        Ok(Packet::Rrq(req)) | Ok(Packet::Wrq(req)) => {
            assert!(!req.filename.is_empty());
            let mut out = Vec::new();
            codec::encode_request(Opcode::Rrq, &req, &mut out);
            match codec::parse(&out) {
                Ok(Packet::Rrq(again)) => assert_eq!(again, req),
                other => panic!("re-encoded request parsed as {other:?}"),
            }
            let n = codec::negotiate(&req.options, limits, size);
            let max_b = limits.max_blksize.clamp(8, 65464);
            assert!((8..=max_b).contains(&n.blksize) || (n.blksize == 512 && n.oack.iter().all(|(k, _)| *k != "blksize")));
            assert!(n.windowsize >= 1 && n.windowsize <= limits.max_windowsize.max(1));
            assert!(n.timeout.is_none_or(|t| t >= 1));
            assert!(n.oack.len() <= 4);
            let mut oack = Vec::new();
            codec::encode_oack(&n.oack, &mut oack);
            assert!(matches!(codec::parse(&oack), Ok(Packet::Oack { .. })));
        }
        Ok(Packet::Error { message, .. }) => {
            let mut out = Vec::new();
            codec::encode_error(codec::ErrorCode::NotDefined, &message, &mut out);
            assert!(matches!(codec::parse(&out), Ok(Packet::Error { .. })));
        }
        Ok(_) | Err(_) => {}
    }
    let mut enc = Vec::new();
    NetasciiEncoder::new().encode(datagram, &mut enc);
    assert_eq!(enc.len() as u64, NetasciiEncoder::encoded_len(datagram));
});
