//! The one error type of the library.
//!
//! Input bytes can only ever produce [`Error::Format`], [`Error::Unsupported`] or
//! [`Error::LimitExceeded`]; [`Error::Parameter`] is caller misuse. Nothing reachable from
//! input bytes panics.

use std::fmt;
use std::io;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in pcz.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The input is not a valid file of the kind expected.
    #[error("{0}")]
    Format(FormatError),
    /// Valid, but a version or feature this build does not implement.
    #[error("unsupported {what}")]
    Unsupported {
        /// What is unsupported, e.g. "model format version 7".
        what: String,
    },
    /// Honouring the input would exceed a limit (checked before allocating).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The caller asked for something impossible (bad option, mismatched sizes).
    #[error("{0}")]
    Parameter(String),
}

/// A malformed input: what was being read, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// The structure being read ("model file", "IDX header", ...).
    pub context: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.context, self.message)
    }
}

impl Error {
    /// Shorthand for a [`Error::Format`] error.
    pub fn format(context: &'static str, message: impl Into<String>) -> Self {
        Error::Format(FormatError {
            context,
            message: message.into(),
        })
    }

    /// Shorthand for a [`Error::Parameter`] error.
    pub fn parameter(message: impl Into<String>) -> Self {
        Error::Parameter(message.into())
    }
}
