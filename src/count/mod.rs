//! Counting: what the sinks keep of the commands the pipeline hands them. The top-k key tables
//! ([`topk`], made of [`keys`] storage, a hash [`index`] and eviction candidates, [`evict`]),
//! percentiles ([`histogram`]), the statistics of a run ([`stats`]) and its windows over time
//! ([`window`]), cluster slots ([`cluster`]), key hashing ([`hash`]), the counting thread
//! ([`offload`]) and its batches' layout ([`batch`]), accesses counted a few behind on the thread
//! that parses them ([`ahead`]), the timestamps' clock ([`clock`]),
//! command names ([`name`]), the nodes of a run ([`nodes`]) and memory hints ([`prefetch`]).

pub mod ahead;
pub mod batch;
pub mod clock;
pub mod cluster;
pub mod evict;
pub mod hash;
pub mod histogram;
pub mod index;
pub mod keys;
pub mod name;
pub mod nodes;
pub mod offload;
pub mod prefetch;
pub mod stats;
pub mod topk;
pub mod window;
