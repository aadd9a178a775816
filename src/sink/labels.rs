//! The nodes' labels, by node number: given by the inputs (`NAME=PATH`, a server's address) or
//! learnt from the records read back, and shown in the reports when there are any.

use crate::count::name::Name;

/// Node labels by node number, for the report; shown when the inputs name nodes or the records
/// read back do. Each is kept as a [`Name`]: a label of a mebibyte costs its head.
pub struct Labels {
    labels: Vec<Name>,
    /// Which numbers have their label.
    known: Vec<bool>,
    named: bool,
}

impl Labels {
    /// The inputs' labels, when they name nodes.
    pub fn new(inputs: Option<Vec<Vec<u8>>>) -> Labels {
        let labels: Vec<Name> = inputs.as_deref().unwrap_or_default().iter().map(|l| Name::new(l)).collect();
        Labels { named: inputs.is_some(), known: vec![true; labels.len()], labels }
    }

    /// A node's label: the first said is kept (the decoder gives each number one label).
    #[inline]
    pub(crate) fn learn(&mut self, node: u32, label: &[u8]) {
        let node = node as usize;
        self.named = true;
        if self.known.get(node) == Some(&true) {
            return;
        }
        if node >= self.labels.len() {
            self.labels.resize(node + 1, Name::default());
            self.known.resize(node + 1, false);
        }
        self.labels[node] = Name::new(label);
        self.known[node] = true;
    }

    pub(crate) fn shown(&self) -> Option<&[Name]> {
        self.named.then_some(&self.labels[..])
    }
}
