//! The command-line layer, split as ripgrep splits its own: [`flags`] defines every flag once
//! (name, value, default, docs, what it sets), [`doc`] renders `--help` and the man page's
//! OPTIONS from that table, [`parse`](mod@parse) turns the arguments into a plain [`Config`]
//! without reading anything, and [`resolve`](mod@resolve) then checks the flags against each other
//! and reads what they name (the `--commands` table, passwords, the cluster's nodes), giving a
//! [`Plan`] to run.

pub(crate) mod config;
pub mod doc;
pub mod flags;
mod parse;
mod resolve;

pub use crate::cli::config::{Action, Config, ReportFormat, DEFAULT_MAX_KEYS};
pub use crate::cli::doc::{help, MANUAL};
pub use crate::cli::parse::parse;
pub use crate::cli::resolve::{resolve, Plan};
pub use crate::error::UsageError;
