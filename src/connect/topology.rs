//! Which nodes to monitor, asked of the servers before the run: how many nodes a cluster proxy
//! fronts (`--imonitor all`: its `INFO` says `nodecount`), and which nodes a Redis Cluster has
//! (`--cluster`: `CLUSTER SHARDS` from 7.0 on, `CLUSTER NODES` before; its primaries, and its
//! replicas on request; nodes marked failed or without an address are left out, and said).

use super::resp::Reply;
use super::{Addr, Monitor, Node, Target};

/// The most nodes `--imonitor all` or `--cluster` opens connections to.
pub const MAX_NODES: usize = 1000;

/// Which node indexes of a proxy to monitor: `IMONITOR n` for a node, `RIMONITOR n r` for a
/// replica of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indexes {
    All,
    List(Vec<Monitor>),
}

impl Indexes {
    /// `all`, or `N`, `N-M`, `N:R` (replica R of node N), comma-separated.
    pub fn parse(text: &str) -> Result<Indexes, String> {
        if text == "all" {
            return Ok(Indexes::All);
        }
        let mut list = Vec::new();
        for part in text.split(',') {
            let number = |t: &str| t.trim().parse::<u32>().map_err(|_| format!("'{}' is no node index", esc(t)));
            if let Some((node, replica)) = part.split_once(':') {
                list.push(Monitor::Replica(number(node)?, number(replica)?));
                continue;
            }
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => (number(part)?, number(part)?),
            };
            if first > last || (last - first) as usize >= MAX_NODES || list.len() >= MAX_NODES {
                return Err(format!(
                    "'{}': a range from a lower index to a higher one, of at most {MAX_NODES}",
                    esc(part)
                ));
            }
            list.extend((first..=last).map(Monitor::Index));
        }
        list.sort_unstable();
        list.dedup();
        Ok(Indexes::List(list))
    }

    /// The indexes, asking the proxy for its node count when all are wanted.
    pub fn resolve(&self, proxy: &Node) -> Result<Vec<Monitor>, String> {
        match self {
            Indexes::List(list) => Ok(list.clone()),
            Indexes::All => {
                let reply = proxy.ask(&[b"INFO"])?;
                let count = node_count(&reply).ok_or(
                    "its INFO says no nodecount (is it a cluster proxy with IMONITOR?): name the indexes, --imonitor 0-3",
                )?;
                Ok((0..count.min(MAX_NODES as u32)).map(Monitor::Index).collect())
            }
        }
    }
}

fn esc(text: &str) -> String {
    crate::escape::escaped(text.as_bytes())
}

/// `nodecount:N` in an INFO reply.
fn node_count(reply: &Reply) -> Option<u32> {
    let text = reply.text()?;
    let text = std::str::from_utf8(text).ok()?;
    text.lines().find_map(|l| l.trim().strip_prefix("nodecount:")).and_then(|n| n.trim().parse().ok())
}

/// A node of a Redis Cluster, as the seed described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub host: String,
    pub port: u16,
    /// The TLS port, when the seed named one (`CLUSTER SHARDS`' `tls-port`).
    pub tls_port: u16,
    pub primary: bool,
    /// Failed, or with no address: not monitored.
    pub usable: bool,
}

/// The cluster's nodes, as `seed` describes them.
pub fn cluster_nodes(seed: &Node) -> Result<Vec<ClusterNode>, String> {
    let nodes = match seed.ask(&[b"CLUSTER", b"SHARDS"])? {
        Reply::Array(shards) => from_shards(&shards),
        // Before 7.0 there is no SHARDS, and an ACL user may be let run only NODES.
        Reply::Error(_) => match seed.ask(&[b"CLUSTER", b"NODES"])? {
            Reply::Bulk(text) => from_nodes(&text),
            other => return Err(refusal(&other)),
        },
        other => return Err(refusal(&other)),
    };
    if nodes.len() > MAX_NODES {
        return Err(format!("the cluster has more than {MAX_NODES} nodes"));
    }
    Ok(nodes)
}

fn refusal(reply: &Reply) -> String {
    match reply {
        Reply::Error(e) if e.starts_with(b"ERR This instance has cluster support disabled") => {
            "it is no cluster node (cluster support disabled): --connect it without --cluster".into()
        }
        Reply::Error(e) => {
            let mut out = Vec::new();
            crate::escape::escape_truncated(e, 200, &mut out);
            format!("CLUSTER was refused: '{}'", String::from_utf8_lossy(&out))
        }
        _ => "CLUSTER SHARDS gave an unexpected reply".into(),
    }
}

/// `CLUSTER SHARDS`: an array of maps, each with `nodes`, an array of maps with `ip`,
/// `endpoint`, `port`, `role`, `health`.
fn from_shards(shards: &[Reply]) -> Vec<ClusterNode> {
    let mut out = Vec::new();
    for shard in shards {
        let Some(Reply::Array(nodes)) = shard.get(b"nodes") else { continue };
        for node in nodes {
            let text =
                |key: &[u8]| node.get(key).and_then(Reply::text).map(|t| String::from_utf8_lossy(t).into_owned());
            let number = |key: &[u8]| match node.get(key) {
                Some(Reply::Int(p)) => u16::try_from(*p).unwrap_or(0),
                _ => 0,
            };
            let (port, tls_port) = (number(b"port"), number(b"tls-port"));
            let host =
                text(b"ip").filter(|h| !h.is_empty() && h != "?").or_else(|| text(b"endpoint")).unwrap_or_default();
            let usable = (port != 0 || tls_port != 0) && !host.is_empty() && text(b"health").as_deref() != Some("fail");
            let primary = text(b"role").as_deref() == Some("master");
            out.push(ClusterNode { host, port, tls_port, primary, usable });
        }
    }
    out
}

/// `CLUSTER NODES`: a line per node, `id ip:port@cport[,hostname] flags master …`.
fn from_nodes(text: &[u8]) -> Vec<ClusterNode> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(addr), Some(flags)) = (fields.get(1), fields.get(2)) else { continue };
        let addr = addr.split(['@', ',']).next().unwrap_or_default();
        let Some((host, port)) = addr.rsplit_once(':') else { continue };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let port: u16 = port.parse().unwrap_or(0);
        let flags: Vec<&str> = flags.split(',').collect();
        let usable =
            port != 0 && !host.is_empty() && !flags.iter().any(|f| matches!(*f, "fail" | "noaddr" | "handshake"));
        // With tls-cluster, the port shown is the TLS port.
        out.push(ClusterNode { host, port, tls_port: port, primary: flags.contains(&"master"), usable });
    }
    out
}

impl ClusterNode {
    /// The target to connect to: the seed's user and TLS, labelled by the node's address.
    pub fn target(&self, seed: &Target) -> Target {
        Target {
            addr: Addr::Tcp {
                host: self.host.clone(),
                port: if seed.tls && self.tls_port != 0 { self.tls_port } else { self.port },
            },
            user: seed.user.clone(),
            label: None,
            db: None,
            tls: seed.tls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_lists_and_ranges() {
        assert_eq!(Indexes::parse("all").unwrap(), Indexes::All);
        let index = Monitor::Index;
        assert_eq!(Indexes::parse("3,0-2,2").unwrap(), Indexes::List(vec![index(0), index(1), index(2), index(3)]));
        assert_eq!(Indexes::parse("1:0,0").unwrap(), Indexes::List(vec![index(0), Monitor::Replica(1, 0)]));
        for bad in ["", "x", "3-1", "0-99999", "-1", "1,,2", "1:", "1:x"] {
            assert!(Indexes::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nodecount_from_info() {
        let info = Reply::Bulk(b"# Server\r\nredis_version:5.0\r\n# Cluster\r\nnodecount:4\r\n".to_vec());
        assert_eq!(node_count(&info), Some(4));
        assert_eq!(node_count(&Reply::Bulk(b"# Server\r\n".to_vec())), None);
    }

    #[test]
    fn cluster_nodes_before_7() {
        let text = b"07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected\n\
            67ed 127.0.0.1:30002@40002,host-b master - 0 1426238316232 2 connected 5461-10922\n\
            292f 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460\n\
            6ec2 :0@0 master,fail,noaddr - 1 1 0 disconnected\n\
            aaaa [::1]:30003@40003 master - 0 0 3 connected 10923-16383\n";
        let nodes = from_nodes(text);
        let summary: Vec<(String, u16, bool, bool)> =
            nodes.iter().map(|n| (n.host.clone(), n.port, n.primary, n.usable)).collect();
        assert_eq!(
            summary,
            [
                ("127.0.0.1".to_string(), 30004, false, true),
                ("127.0.0.1".to_string(), 30002, true, true),
                ("127.0.0.1".to_string(), 30001, true, true),
                (String::new(), 0, true, false),
                ("::1".to_string(), 30003, true, true),
            ]
        );
    }
}
