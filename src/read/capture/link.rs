//! The link layers tcpdump writes on Linux, down to the IP packet they carry: Ethernet (with
//! 802.1Q and 802.1ad VLAN tags), Linux cooked capture v1 (SLL) and v2 (SLL2, `-i any`), BSD
//! loopback (NULL, LOOP) and raw IP.

/// LINKTYPE_* values (tcpdump.org/linktypes.html).
const NULL: u32 = 0;
const ETHERNET: u32 = 1;
const RAW_OLD: u32 = 12;
const RAW_OLD_14: u32 = 14;
const RAW: u32 = 101;
const LOOP: u32 = 108;
const LINUX_SLL: u32 = 113;
const IPV4: u32 = 228;
const IPV6: u32 = 229;
const LINUX_SLL2: u32 = 276;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// What a frame carries.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkFrame<'a> {
    /// An IP packet (its version is in its first byte).
    Ip(&'a [u8]),
    /// Something else (ARP, another protocol): not traffic to read.
    Other,
    /// A frame shorter than its own header (cut by the snap length, or damaged).
    Short,
    /// A link type this reader does not know.
    UnknownLink,
}

/// The IP packet in a frame of link type `link`.
pub fn ip_packet(link: u32, frame: &[u8]) -> LinkFrame<'_> {
    match link {
        ETHERNET => ethernet(frame),
        LINUX_SLL => by_ethertype(frame, 16, 14),
        LINUX_SLL2 => by_ethertype(frame, 20, 0),
        NULL | LOOP => loopback(frame),
        RAW | RAW_OLD | RAW_OLD_14 | IPV4 | IPV6 => LinkFrame::Ip(frame),
        _ => LinkFrame::UnknownLink,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// A header of `len` bytes whose protocol (an ethertype) is at `at`.
fn by_ethertype(frame: &[u8], len: usize, at: usize) -> LinkFrame<'_> {
    if frame.len() < len {
        return LinkFrame::Short;
    }
    by_type(be16(frame, at), &frame[len..])
}

fn by_type(ethertype: u16, rest: &[u8]) -> LinkFrame<'_> {
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => LinkFrame::Ip(rest),
        _ => LinkFrame::Other,
    }
}

/// Ethernet II, after any number of VLAN tags.
fn ethernet(frame: &[u8]) -> LinkFrame<'_> {
    let mut at = 12;
    loop {
        if frame.len() < at + 2 {
            return LinkFrame::Short;
        }
        match be16(frame, at) {
            // 802.1Q, 802.1ad, and the old QinQ type: a tag of 4 bytes, then the type.
            0x8100 | 0x88a8 | 0x9100 => at += 4,
            ethertype => return by_type(ethertype, &frame[at + 2..]),
        }
    }
}

/// NULL and LOOP: a 4-byte address family, in the capturing host's byte order (NULL) or in
/// network order (LOOP); both are tried, as files move between hosts.
fn loopback(frame: &[u8]) -> LinkFrame<'_> {
    let Some(family) = frame.get(..4) else { return LinkFrame::Short };
    let le = u32::from_le_bytes([family[0], family[1], family[2], family[3]]);
    let family = if le > 0xffff { le.swap_bytes() } else { le };
    match family {
        // AF_INET everywhere; AF_INET6 on Linux, the BSDs, and macOS.
        2 | 10 | 24 | 28 | 30 => LinkFrame::Ip(&frame[4..]),
        _ => LinkFrame::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_type_reaches_the_ip_packet() {
        let ip = [0x45u8, 0, 0, 20];
        let mut eth = vec![0u8; 12];
        eth.extend([0x08, 0x00]);
        eth.extend(ip);
        assert_eq!(ip_packet(ETHERNET, &eth), LinkFrame::Ip(&ip));
        let mut tagged = vec![0u8; 12];
        tagged.extend([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd]);
        tagged.extend(ip);
        assert_eq!(ip_packet(ETHERNET, &tagged), LinkFrame::Ip(&ip));
        let mut sll = vec![0u8; 14];
        sll.extend([0x08, 0x00]);
        sll.extend(ip);
        assert_eq!(ip_packet(LINUX_SLL, &sll), LinkFrame::Ip(&ip));
        let mut sll2 = vec![0x86, 0xdd];
        sll2.resize(20, 0);
        sll2.extend(ip);
        assert_eq!(ip_packet(LINUX_SLL2, &sll2), LinkFrame::Ip(&ip));
        for family in [[2, 0, 0, 0], [0, 0, 0, 2], [30, 0, 0, 0], [0, 0, 0, 24]] {
            let mut null = family.to_vec();
            null.extend(ip);
            assert_eq!(ip_packet(NULL, &null), LinkFrame::Ip(&ip));
        }
        assert_eq!(ip_packet(RAW, &ip), LinkFrame::Ip(&ip));
        let mut arp = vec![0u8; 12];
        arp.extend([0x08, 0x06, 1, 2]);
        assert_eq!(ip_packet(ETHERNET, &arp), LinkFrame::Other);
        assert_eq!(ip_packet(ETHERNET, &eth[..13]), LinkFrame::Short);
        assert_eq!(ip_packet(LINUX_SLL2, &sll2[..19]), LinkFrame::Short);
        assert_eq!(ip_packet(147, &ip), LinkFrame::UnknownLink);
    }
}
