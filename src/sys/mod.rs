//! The process's edges: signals ([`signal`]), standard output as a file ([`output`]), and the
//! terminal's size ([`terminal`]).

pub mod output;
pub mod signal;
pub mod terminal;
