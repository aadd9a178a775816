//! The process's edges: signals ([`signal`]), standard output as a file ([`output`]), and the
//! terminals (their size, and echo off for a password: [`terminal`]).

pub mod output;
pub mod signal;
pub mod terminal;
