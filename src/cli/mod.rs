//! The command line: the clap definitions ([`args`]), the values flags take
//! ([`values`]), the long help texts ([`help`]) and completion
//! ([`complete`]); [`lower`] turns the parsed flags into the plain option
//! structs the commands take, so nothing below the commands knows clap.

mod args;
mod complete;
mod docs;
mod help;
mod lower;
pub mod values;

pub use args::Cli;
pub use lower::run;
