//! Counting: what the sinks keep of the commands the pipeline hands them. The top-k key tables
//! ([`counter`]), the statistics of a run ([`stats`]) and its windows over time ([`window`]),
//! cluster slots ([`cluster`]), key hashing ([`hash`]), the counting thread ([`offload`]), the
//! timestamps' clock ([`clock`]), command names ([`name`]) and the nodes of a run ([`nodes`]).

pub mod clock;
pub mod cluster;
pub mod counter;
pub mod hash;
pub mod name;
pub mod nodes;
pub mod offload;
pub mod stats;
pub mod window;
