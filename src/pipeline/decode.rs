//! One line in, one [`Decoded`] value out: the line parsed ([`crate::format::monitor`]), its command
//! resolved in the command table (with a cache of the names as clients spell them), its keys
//! found, its node known. Everything after this step reads the [`Command`] and nothing else.

use std::collections::HashMap;
use std::sync::Arc;

use crate::commands::{CommandId, KeyRef, Lookup, NameCache, Table};
use crate::count::name::Name;
use crate::format::monitor::{Args, Call, Header, Line, Parser};
use crate::format::record;
use crate::read::capture::{CallIn, PacketReply};
use crate::read::input::LineIn;

/// The most node labels kept (records read back can name any number).
const MAX_NODES: usize = 1024;

/// A command, as everything after decoding sees it.
#[derive(Debug, Clone, Copy)]
pub struct Command<'a> {
    pub header: Header<'a>,
    /// Its arguments; 0 is the name as the client wrote it.
    pub args: Args<'a>,
    /// The normalized name: `get`, `object|encoding`, or an unknown name in lower case.
    pub name: &'a [u8],
    /// Its place in the command table, when the table knows it.
    pub id: Option<CommandId>,
    /// Its keys (none when they were not asked for).
    pub keys: &'a [KeyRef],
    /// The node it came from, and its label when records and reports name nodes.
    pub node: u32,
    pub node_label: Option<&'a [u8]>,
    /// The request's size: its arguments after the name, in bytes; a cut line adds its last
    /// argument's head and the dropped tail, as written (escaped, less the closing quote).
    pub bytes: u64,
    /// Its reply, for a request read from packets whose reply the capture showed.
    pub reply: Option<PacketReply>,
    /// It was read from packets (its time is the packet's, its latency measured).
    pub packet: bool,
}

/// What a line turned out to be.
// It lives on the stack for one line: boxing its one large variant would allocate per line.
#[allow(clippy::large_enum_variant)]
pub enum Decoded<'a> {
    Command(Command<'a>),
    /// Expected chatter: `OK`, telnet's banners, blank lines.
    Noise,
    /// A RESP error from the server, without its `-`.
    ServerError(&'a [u8]),
    /// Not a MONITOR line.
    Skipped,
}

/// Node numbers, by label: the inputs', then those that records read back name. A label over
/// [`crate::count::name::HEAD`] bytes is known by its head, length and hash, never held whole.
pub struct NodeNumbers {
    /// The inputs' labels (from the command line), by node number.
    inputs: Vec<Vec<u8>>,
    short: HashMap<Vec<u8>, u32>,
    long: HashMap<Name, u32>,
    /// Node numbers handed out so far.
    count: u32,
    /// The number every label past [`MAX_NODES`] shares.
    other: Option<u32>,
    /// Whether commands carry node labels; decided by the first command when not set.
    named: Option<bool>,
}

/// The label of the node every label past [`MAX_NODES`] is counted as.
const OTHER_NODES: &[u8] = b"(other nodes)";

impl NodeNumbers {
    /// `inputs` are the inputs' labels when they name nodes (several inputs, or `NAME=PATH`).
    pub fn new(inputs: Option<Vec<Vec<u8>>>) -> NodeNumbers {
        let mut nodes = NodeNumbers {
            inputs: Vec::new(),
            short: HashMap::new(),
            long: HashMap::new(),
            count: 0,
            other: None,
            named: None,
        };
        if let Some(labels) = inputs {
            nodes.named = Some(true);
            for label in labels {
                // Inputs keep their numbers even when two share a label.
                let n = nodes.count;
                nodes.count += 1;
                nodes.remember(&label, n);
                nodes.inputs.push(label);
            }
        }
        nodes
    }

    /// Notes `label` as node `n`'s, unless it names one already.
    fn remember(&mut self, label: &[u8], n: u32) {
        if label.len() <= crate::count::name::HEAD {
            self.short.entry(label.to_vec()).or_insert(n);
        } else {
            self.long.entry(Name::new(label)).or_insert(n);
        }
    }

    fn find(&self, label: &[u8]) -> Option<u32> {
        if label.len() <= crate::count::name::HEAD {
            self.short.get(label).copied()
        } else {
            self.long.get(&Name::new(label)).copied()
        }
    }

    /// The number of a node label, added when new. Past [`MAX_NODES`] every new label is
    /// counted as one, `(other nodes)`.
    fn number(&mut self, label: &[u8]) -> u32 {
        if let Some(n) = self.find(label) {
            return n;
        }
        if self.count as usize + 1 >= MAX_NODES {
            return match self.other {
                Some(n) => n,
                None => {
                    let n = self.count;
                    self.count += 1;
                    self.other = Some(n);
                    n
                }
            };
        }
        let n = self.count;
        self.count += 1;
        self.remember(label, n);
        n
    }

    /// The label a command of node `node` carries: the record's own (`from_line`), or its
    /// input's; `(other nodes)` past [`MAX_NODES`].
    fn label<'a>(&'a self, node: u32, from_line: Option<&'a [u8]>) -> Option<&'a [u8]> {
        if self.named != Some(true) {
            return None;
        }
        if self.other == Some(node) {
            return Some(OTHER_NODES);
        }
        from_line.or_else(|| self.inputs.get(node as usize).map(Vec::as_slice))
    }
}

/// Turns lines into [`Decoded`] values, reusing its buffers from line to line.
pub struct Decoder {
    parser: Parser,
    table: Arc<Table>,
    names: NameCache,
    keys: Vec<KeyRef>,
    /// The lower-cased name of an unknown command.
    name: Vec<u8>,
    nodes: NodeNumbers,
}

impl Decoder {
    pub fn new(table: Arc<Table>, nodes: NodeNumbers) -> Decoder {
        Decoder { parser: Parser::new(), table, names: NameCache::default(), keys: Vec::new(), name: Vec::new(), nodes }
    }

    /// Takes over what the decoder of the part of the input that follows decided and this one
    /// did not: whether commands name nodes, which the first command decides (a part that read
    /// no record naming a node of its own numbered no node).
    pub fn join(&mut self, later: &Decoder) {
        self.nodes.named = self.nodes.named.or(later.nodes.named);
    }

    /// Decodes one line; its keys are found only when `keys` asks for them.
    // Always inlined into the pipeline's step, its one caller: the command is then built there,
    // not returned through memory and copied (left to the compiler, it stopped inlining this
    // once other code grew: one pass +6.3M instructions on the 200k sample).
    #[inline(always)]
    pub fn decode<'a>(&'a mut self, line: &LineIn<'a>, keys: bool) -> Decoded<'a> {
        let Decoder { parser, table, names, keys: found, name, nodes } = self;
        let call = match parser.parse_line(line.line, line.cut, !line.plain) {
            Line::Command(call) => call,
            Line::Noise => return Decoded::Noise,
            Line::ServerError(text) => return Decoded::ServerError(text),
            Line::Skipped => return Decoded::Skipped,
        };
        let Call { header, args, lost, mut bytes, reply } = call;
        let args = args.with_long(line.long);
        for long in line.long {
            // The head's bytes were counted; the whole argument's are.
            if long.index < args.len() {
                bytes += long.len - args.get(long.index).len() as u64;
            }
        }
        let bytes = if line.cut { bytes + (lost as u64 + line.dropped).saturating_sub(1) } else { bytes };
        let resolver = Resolver { table, names, found, name, nodes };
        let r = resolver.resolve(&header, &args, line.node, keys);
        let (reply, packet) = match reply {
            None => (None, false),
            Some(columns) => read_back(*columns),
        };
        // Built where it is returned: a command is a few hundred bytes, moved once.
        Decoded::Command(r.command(header, args, bytes, reply, packet))
    }

    /// Decodes a request another input read whole (a packet capture's): its size is known.
    pub fn decode_call<'a>(&'a mut self, call: &CallIn<'a>, keys: bool) -> Command<'a> {
        let Decoder { table, names, keys: found, name, nodes, .. } = self;
        let resolver = Resolver { table, names, found, name, nodes };
        let Call { header, args, bytes, .. } = call.call;
        let r = resolver.resolve(&header, &args, call.node, keys);
        r.command(header, args, bytes, call.reply, true)
    }
}

/// A record of a request read from packets, read back: its reply as the capture gave it, and
/// that it was read from packets.
#[cold]
fn read_back(reply: record::ReplyColumns) -> (Option<PacketReply>, bool) {
    match reply {
        record::ReplyColumns::Share { bytes, micros } => {
            (Some(PacketReply { bytes, nanos: micros.saturating_mul(1000) }), true)
        }
        _ => (None, true),
    }
}

/// What resolving a call uses of the decoder.
struct Resolver<'a> {
    table: &'a Table,
    names: &'a mut NameCache,
    found: &'a mut Vec<KeyRef>,
    name: &'a mut Vec<u8>,
    nodes: &'a mut NodeNumbers,
}

/// What resolving a call finds: everything of its [`Command`] that is not in the line.
struct Resolved<'a> {
    name: &'a [u8],
    id: Option<CommandId>,
    keys: &'a [KeyRef],
    node: u32,
    node_label: Option<&'a [u8]>,
}

impl<'a> Resolved<'a> {
    /// The command of a call resolved so: always inlined, so it is built where it is returned.
    #[inline(always)]
    fn command(
        self,
        header: Header<'a>,
        args: Args<'a>,
        bytes: u64,
        reply: Option<PacketReply>,
        packet: bool,
    ) -> Command<'a> {
        let Resolved { name, id, keys, node, node_label } = self;
        Command { header, args, name, id, keys, node, node_label, bytes, reply, packet }
    }
}

impl<'a> Resolver<'a> {
    /// The call's node, its command in the table, its keys (when asked for).
    // Always inlined: what it finds goes into the command where it is built, not through a
    // call's return value (a file read in ranges: 25 instructions a line fewer).
    #[inline(always)]
    fn resolve(self, header: &Header<'a>, args: &Args<'a>, input: u32, keys: bool) -> Resolved<'a> {
        let Resolver { table, names, found, name, nodes } = self;
        if nodes.named.is_none() {
            // A stream of records read back decides by its first one whether nodes are named.
            nodes.named = Some(header.node.is_some());
        }
        let node = match header.node {
            Some(label) => nodes.number(label),
            None => input,
        };
        let lookup = names.lookup(table, args.get(0), || (args.len() > 1).then(|| args.get(1)));
        let (id, name) = match lookup {
            Lookup::Known(id, _) => (Some(id), table.get(id).name.as_bytes()),
            Lookup::Unknown => {
                name.clear();
                name.extend(args.get(0).iter().map(u8::to_ascii_lowercase));
                (None, &name[..])
            }
        };
        found.clear();
        if keys {
            table.keys(lookup, args, found);
        }
        let nodes: &'a NodeNumbers = nodes;
        Resolved { name, id, keys: found, node, node_label: nodes.label(node, header.node) }
    }
}
