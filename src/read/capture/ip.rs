//! IPv4 and IPv6 headers, down to the transport payload: its addresses, its protocol, and how
//! much of it the capture cut off (the snap length), from the lengths the header gives.
//! Fragments are not reassembled (TCP traffic rarely is fragmented): they are told apart.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP's protocol number.
pub const TCP: u8 = 6;

/// An IP packet's transport payload.
#[derive(Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// The payload as captured.
    pub payload: &'a [u8],
    /// Bytes of the payload the header counts but the capture does not hold.
    pub missing: u32,
}

/// What an IP packet turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum IpPacket<'a> {
    Datagram(Datagram<'a>),
    /// A fragment (not the whole datagram).
    Fragment,
    /// Too short for its header, or not IP at all.
    Damaged,
}

pub fn parse(packet: &[u8]) -> IpPacket<'_> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => v4(packet),
        Some(6) => v6(packet),
        _ => IpPacket::Damaged,
    }
}

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// The payload from `start` to `end` (as the header counts it), and how much of it is missing.
fn payload(packet: &[u8], start: usize, end: usize) -> (&[u8], u32) {
    let have = packet.len().min(end);
    (packet.get(start..have).unwrap_or_default(), end.saturating_sub(have.max(start)) as u32)
}

fn v4(p: &[u8]) -> IpPacket<'_> {
    if p.len() < 20 {
        return IpPacket::Damaged;
    }
    let header = usize::from(p[0] & 0x0f) * 4;
    let total = be16(p, 2);
    if header < 20 || p.len() < header || total < header {
        return IpPacket::Damaged;
    }
    // More fragments, or an offset: a piece of a datagram.
    if be16(p, 6) & 0x3fff != 0 {
        return IpPacket::Fragment;
    }
    let src = IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    // A total length of 0 is what TCP segmentation offload leaves: the frame's own length counts.
    let end = if total == 0 { p.len() } else { total };
    let (payload, missing) = payload(p, header, end);
    IpPacket::Datagram(Datagram { src, dst, protocol: p[9], payload, missing })
}

fn v6(p: &[u8]) -> IpPacket<'_> {
    if p.len() < 40 {
        return IpPacket::Damaged;
    }
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&p[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let length = be16(p, 4);
    // A payload length of 0 is a jumbogram (or offload): the frame's own length counts.
    let end = if length == 0 { p.len() } else { 40 + length };
    let mut next = p[6];
    let mut at = 40;
    // Extension headers: hop-by-hop, routing, destination options; a fragment header ends it.
    loop {
        match next {
            0 | 43 | 60 => {
                let Some(h) = p.get(at..at + 2) else { return IpPacket::Damaged };
                next = h[0];
                at += (usize::from(h[1]) + 1) * 8;
            }
            44 => return IpPacket::Fragment,
            _ => break,
        }
    }
    if at > end {
        return IpPacket::Damaged;
    }
    let (payload, missing) = payload(p, at, end);
    IpPacket::Datagram(Datagram { src: addr(8), dst: addr(24), protocol: next, payload, missing })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An IPv4 packet of `protocol` carrying `payload`.
    pub fn v4_packet(src: [u8; 4], dst: [u8; 4], protocol: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut p = vec![0x45, 0];
        p.extend(total.to_be_bytes());
        p.extend([0, 0, 0x40, 0, 64, protocol, 0, 0]);
        p.extend(src);
        p.extend(dst);
        p.extend_from_slice(payload);
        p
    }

    pub fn v6_packet(src: Ipv6Addr, dst: Ipv6Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend((payload.len() as u16).to_be_bytes());
        p.extend([protocol, 64]);
        p.extend(src.octets());
        p.extend(dst.octets());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn ipv4_payload_its_padding_and_its_cut() {
        let p = v4_packet([127, 0, 0, 1], [10, 0, 0, 2], TCP, b"hello");
        let want = |payload, missing| {
            IpPacket::Datagram(Datagram {
                src: "127.0.0.1".parse().unwrap(),
                dst: "10.0.0.2".parse().unwrap(),
                protocol: TCP,
                payload,
                missing,
            })
        };
        assert_eq!(parse(&p), want(b"hello", 0));
        let mut padded = p.clone();
        padded.extend([0; 6]);
        assert_eq!(parse(&padded), want(b"hello", 0));
        assert_eq!(parse(&p[..22]), want(b"he", 3));
        assert_eq!(parse(&p[..19]), IpPacket::Damaged);
        let mut fragment = p.clone();
        fragment[6] = 0x20;
        assert_eq!(parse(&fragment), IpPacket::Fragment);
    }

    #[test]
    fn ipv6_payload_after_extension_headers() {
        let (a, b) = (Ipv6Addr::LOCALHOST, "fe80::1".parse().unwrap());
        let p = v6_packet(a, b, TCP, b"data");
        let got = parse(&p);
        assert_eq!(
            got,
            IpPacket::Datagram(Datagram {
                src: IpAddr::V6(a),
                dst: IpAddr::V6(b),
                protocol: TCP,
                payload: b"data",
                missing: 0
            })
        );
        // A hop-by-hop options header before TCP.
        let mut ext = vec![TCP, 0, 0, 0, 0, 0, 0, 0];
        ext.extend(b"data");
        let p = v6_packet(a, b, 0, &ext);
        assert!(matches!(parse(&p), IpPacket::Datagram(Datagram { protocol: TCP, payload: b"data", .. })));
        assert_eq!(parse(&v6_packet(a, b, 44, &[0; 8])), IpPacket::Fragment);
        assert_eq!(parse(&p[..30]), IpPacket::Damaged);
    }
}
