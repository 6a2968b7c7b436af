//! Options shared by every subcommand that reads a dataset.

use crate::data::{self, Dataset, Format, LoadOptions};
use clap::Args;
use std::path::Path;

/// How to read a dataset file.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Input format instead of detection: idx, images, raw, csv.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Bytes per record of a raw file (implies --format raw).
    #[arg(long, value_name = "D",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub record_size: Option<usize>,
    /// Alphabet size of every variable (default: largest value + 1 per variable; 8-bit
    /// images usually want 256).
    #[arg(long, value_name = "K")]
    pub alphabet: Option<u16>,
    /// Drop the last CSV column (a class label, as in the sklearn digits CSV).
    #[arg(long)]
    pub drop_label: bool,
}

impl InputArgs {
    /// Loads `path` with these options; errors name the file.
    pub fn load(&self, path: &Path) -> crate::Result<Dataset> {
        let mut options = LoadOptions {
            format: self.format,
            record_size: self.record_size,
            alphabet: self.alphabet,
            ..Default::default()
        };
        options.csv.drop_last_column = self.drop_label;
        data::load(path, &options).map_err(|e| super::in_file(path, e))
    }
}
